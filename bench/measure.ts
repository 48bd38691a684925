import { createRequire } from "node:module";
import autocannon from "autocannon";

/**
 * autocannon appends every response body to a string (`req.body += chunk`), decoding binary bodies
 * as UTF-8 on the generator's one core. For a 200 KB PNG that capped every server measured here
 * (the Worker, the S3 server, nginx) at the same ~430 requests/s, while Node's own HTTP client
 * fetched the same bytes from the same Worker at ~2,900. The scenarios never read bodies through
 * autocannon (they check them separately), so the bench drops them at the generator.
 */
const PipelinedRequestsQueue = createRequire(import.meta.url)("autocannon/lib/pipelinedRequestsQueue.js") as {
  prototype: { addBody(data: unknown): void };
};
PipelinedRequestsQueue.prototype.addBody = () => {};

import type { Measurement } from "./scenarios/types.ts";

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Sequential timings of `send` after a warm-up; the response must be OK. */
export async function timeSequential(
  name: string,
  send: () => Promise<Response>,
  samples: number,
  warmup = 20,
): Promise<Measurement & { samples: number[] }> {
  const measure = async () => {
    const started = performance.now();
    const response = await send();
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < warmup; i++) await measure();
  const values: number[] = [];
  for (let i = 0; i < samples; i++) values.push(await measure());
  return {
    name,
    medianMs: percentile(values, 50),
    p95Ms: percentile(values, 95),
    p99Ms: percentile(values, 99),
    samples: values,
  };
}

/** Throughput with autocannon: a 2 s warm-up, then the measured run. */
export async function loadTest(
  name: string,
  options: { url: string; connections?: number; durationSeconds: number; headers?: Record<string, string> },
): Promise<Measurement & { errors: number }> {
  const base = { url: options.url, connections: options.connections ?? 10, headers: options.headers };
  await autocannon({ ...base, duration: 2 });
  const result = await autocannon({ ...base, duration: options.durationSeconds });
  return {
    name,
    requestsPerSecond: result.requests.average,
    medianMs: result.latency.p50,
    p95Ms: result.latency.p97_5,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}
