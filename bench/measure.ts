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

export interface LoadTarget {
  url: string;
  connections?: number;
  headers?: Record<string, string>;
}

/** One autocannon run, keeping every response's time: its summary has p97.5 but no p95. */
async function autocannonRun(target: LoadTarget, durationSeconds: number) {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon(
      { url: target.url, connections: target.connections ?? 10, headers: target.headers, duration: durationSeconds },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    run.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  return { latencies, requests: result.requests.total, seconds: result.duration, errors: result.errors + result.non2xx };
}

export type LoadResult = Measurement & { errors: number };

function summarize(name: string, runs: Awaited<ReturnType<typeof autocannonRun>>[]): LoadResult {
  const latencies = runs.flatMap((run) => run.latencies);
  const sum = (pick: (run: (typeof runs)[number]) => number) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    name,
    requestsPerSecond: sum((run) => run.requests) / sum((run) => run.seconds),
    medianMs: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    errors: sum((run) => run.errors),
  };
}

/** Throughput with autocannon: a 2 s warm-up, then the measured run. */
export async function loadTest(name: string, options: LoadTarget & { durationSeconds: number }): Promise<LoadResult> {
  await autocannonRun(options, 2);
  return summarize(name, [await autocannonRun(options, options.durationSeconds)]);
}

/**
 * Throughput of servers that are compared with each other, measured in turns (A, B, A, B, ...)
 * so that a slow minute on a shared machine falls on both sides of the ratio rather than one.
 * Each target gets a 2 s warm-up and `durationSeconds` in all, split over `rounds` turns.
 */
export async function loadTestInTurns<const Targets extends readonly (LoadTarget & { name: string })[]>(
  targets: Targets,
  options: { durationSeconds: number; rounds: number },
): Promise<{ [Index in keyof Targets]: LoadResult }> {
  for (const target of targets) await autocannonRun(target, 2);
  const runs = targets.map(() => [] as Awaited<ReturnType<typeof autocannonRun>>[]);
  for (let round = 0; round < options.rounds; round++) {
    for (const [index, target] of targets.entries()) {
      runs[index]?.push(await autocannonRun(target, options.durationSeconds / options.rounds));
    }
  }
  return targets.map((target, index) => summarize(target.name, runs[index] ?? [])) as {
    [Index in keyof Targets]: LoadResult;
  };
}
