/**
 * `npm run bench:auth`: what authentication costs. Starts the local stack and `wrangler dev` on
 * free ports with a throwaway database, then alternates GET /health and an authenticated
 * GET /api/me, sequentially, and prints the latency of each, the median extra latency of the
 * authenticated request, and the database round trips each request made.
 */

import os from "node:os";
import { PgRoundTrips } from "./pg-round-trips.ts";
import { percentile, startBenchPlatform } from "./support.ts";

const WARMUP = 50;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);

async function main() {
  const roundTrips = new PgRoundTrips();
  const platform = await startBenchPlatform("auth", { observeDatabaseClient: roundTrips.observe });
  const { worker, projectKey } = platform;

  try {
    const targets = {
      health: () => fetch(`${worker.url}/health`),
      authenticated: () => fetch(`${worker.url}/api/me`, { headers: { "X-API-Key": projectKey } }),
    };
    const timings: Record<keyof typeof targets, number[]> = { health: [], authenticated: [] };
    const trips: Record<keyof typeof targets, { queries: number; setup: number }> = {
      health: { queries: 0, setup: 0 },
      authenticated: { queries: 0, setup: 0 },
    };

    for (let i = 0; i < WARMUP; i++) for (const send of Object.values(targets)) await (await send()).arrayBuffer();

    for (let i = 0; i < SAMPLES; i++) {
      for (const [name, send] of Object.entries(targets) as [keyof typeof targets, () => Promise<Response>][]) {
        const before = roundTrips.snapshot();
        const started = performance.now();
        const response = await send();
        await response.arrayBuffer();
        timings[name].push(performance.now() - started);
        if (response.status !== 200) throw new Error(`${name} answered ${response.status}`);
        // Let the Worker's deferred work (closing the pool) finish before the next request.
        await new Promise((resolve) => setTimeout(resolve, 2));
        const after = roundTrips.snapshot();
        trips[name].queries += after.queries - before.queries;
        trips[name].setup += after.setup - before.setup;
      }
    }

    const row = (name: keyof typeof targets) => {
      const values = timings[name];
      return `| ${name === "health" ? "GET /health" : "GET /api/me (authenticated)"} | ${percentile(values, 50).toFixed(2)} | ${percentile(values, 95).toFixed(2)} | ${percentile(values, 99).toFixed(2)} | ${(trips[name].queries / SAMPLES).toFixed(2)} | ${(trips[name].setup / SAMPLES).toFixed(2)} |`;
    };
    const extra = percentile(timings.authenticated, 50) - percentile(timings.health, 50);
    console.log(
      `\nAuthentication overhead: ${SAMPLES} sequential samples each after ${WARMUP} warm-up, ${os.cpus().length} cores, wrangler dev on loopback\n`,
    );
    console.log("| request | median ms | p95 ms | p99 ms | queries per request | connection setup messages |");
    console.log("|---|---|---|---|---|---|");
    console.log(row("health"));
    console.log(row("authenticated"));
    console.log(`\nMedian extra latency of an authenticated request over /health: ${extra.toFixed(2)} ms`);
    console.log(
      "(/health runs one database query and one storage listing in parallel; /api/me runs the single authentication statement.)",
    );
  } finally {
    await platform.stop();
  }
}

await main();
