import http from "node:http";
import { listenOnLoopback } from "../../dev/stack/loopback-server.ts";
import { percentile } from "../measure.ts";
import { createProjectKey } from "../support.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_WEBHOOK_SAMPLES ?? 20);
/** Longest wait for one delivery before the scenario gives up on it. */
const DELIVERY_TIMEOUT_MS = 30_000;

/**
 * A receiver that notes when each generation's generation.succeeded arrives (this process's
 * clock, as the 202 is timed), answering 204 at once.
 */
async function startTimingReceiver() {
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = performance.now();
      res.writeHead(204).end();
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string; data: { id: string } };
      if (event.type !== "generation.succeeded") return;
      arrivals.set(event.data.id, at);
      waiters.get(event.data.id)?.(at);
    });
  });
  const listening = await listenOnLoopback(server);
  const arrivalOf = (id: string) =>
    new Promise<number>((resolve, reject) => {
      const known = arrivals.get(id);
      if (known !== undefined) return resolve(known);
      const timer = setTimeout(
        () => reject(new Error(`no webhook for ${id} within ${DELIVERY_TIMEOUT_MS} ms`)),
        DELIVERY_TIMEOUT_MS,
      );
      waiters.set(id, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  return { url: listening.url, stop: listening.stop, arrivalOf };
}

/**
 * The time from an asynchronous generation's 202 (`Prefer: respond-async` on POST
 * /api/v1/generations) to its generation.succeeded webhook reaching the project's receiver,
 * against the zero-delay Gemini fake: the generations queue, the generation, the webhooks queue
 * and the signed POST. One generation at a time, so each is timed alone. Local queues deliver a
 * batch after wrangler.toml's max_batch_timeout (1 s) when it does not fill, and there are two
 * queues on the way: that wait dominates here, not the work.
 */
export const webhooksScenario: Scenario = {
  name: "webhooks",
  async run({ platform }) {
    const url = platform.worker.url;
    const key = await createProjectKey(url, platform.masterKey, "bench-webhooks");
    const receiver = await startTimingReceiver();
    try {
      const call = async (path: string, method: string, body?: unknown, headers: Record<string, string> = {}) => {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: { "X-API-Key": key, "Content-Type": "application/json", ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
        return JSON.parse(text) as { data: { id: string } };
      };
      await call("/api/v1/webhooks", "PUT", { url: `${receiver.url}/hooks/bench`, events: ["generation.succeeded"] });
      await call("/api/v1/webhooks/secret", "POST");

      const values: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const generation = await call(
          "/api/v1/generations",
          "POST",
          { prompt: `a lighthouse on a cliff at dusk ${i}`, autoEnhance: false },
          { Prefer: "respond-async" },
        );
        const accepted = performance.now();
        values.push((await receiver.arrivalOf(generation.data.id)) - accepted);
      }
      const measurement = {
        name: "202 to the generation.succeeded webhook (Prefer: respond-async, one at a time)",
        medianMs: percentile(values, 50),
        p95Ms: percentile(values, 95),
      };
      return {
        scenario: "webhooks",
        description: `From 202 to webhook delivery over a zero-delay Gemini fake: ${SAMPLES} asynchronous generations`,
        measurements: [measurement],
        metrics: {
          webhookDeliveryMedianMs: measurement.medianMs,
          webhookDeliveryP95Ms: measurement.p95Ms,
          webhookDeliveries: values.length,
        },
        notes: [
          `${values.length} deliveries; fastest ${Math.round(Math.min(...values))} ms, slowest ${Math.round(Math.max(...values))} ms; local queues wait up to max_batch_timeout (1 s) per queue`,
        ],
      };
    } finally {
      await receiver.stop();
    }
  },
};
