import { timeSequential } from "../measure.ts";
import { createProjectKey } from "../support.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);

/**
 * The cost of authentication and the quota: GET /api/bootstrap/status (public, one query: what a
 * statement costs) against an authenticated GET /api/me and a rate-limited POST /api/enhance
 * (the offline template enhancer: next to no work of its own), with the PostgreSQL round trips
 * each makes, counted at the SQL-over-HTTP server and the WebSocket proxy. /health, the baseline
 * before, is now shallow (it queries nothing) and is limited per client.
 */
export const authScenario: Scenario = {
  name: "auth",
  async run({ offline, platform, roundTrips }) {
    const key = platform.projectKey;
    // Its own key, so the two measurements do not share one burst limit.
    const meKey = await createProjectKey(platform.worker.url, platform.masterKey, "bench-me");
    const targets = {
      "GET /api/bootstrap/status": () => fetch(`${offline.url}/api/bootstrap/status`),
      "GET /api/me (authenticated)": () => fetch(`${offline.url}/api/me`, { headers: { "X-API-Key": meKey } }),
      "POST /api/enhance (authenticated, rate limited)": () =>
        fetch(`${offline.url}/api/enhance`, {
          method: "POST",
          headers: { "X-API-Key": key, "Content-Type": "application/json" },
          body: JSON.stringify({ prompt: "a red bicycle" }),
        }),
    };
    const measurements = [];
    const queries: Record<string, number> = {};
    for (const [name, send] of Object.entries(targets)) {
      const before = roundTrips.snapshot();
      const result = await timeSequential(name, send, SAMPLES);
      queries[name] = (roundTrips.snapshot().queries - before.queries) / (SAMPLES + 20);
      measurements.push(result);
    }
    const [baseline, me, limited] = measurements as [
      (typeof measurements)[number],
      (typeof measurements)[number],
      (typeof measurements)[number],
    ];
    return {
      scenario: "auth",
      description: `Authentication and quota: ${SAMPLES} sequential requests each`,
      measurements,
      metrics: {
        authOverheadMs: me.medianMs - baseline.medianMs,
        authQuotaOverheadMs: limited.medianMs - baseline.medianMs,
        authQueriesPerRequest: queries["GET /api/me (authenticated)"] ?? Number.NaN,
        authQuotaQueriesPerRequest: queries["POST /api/enhance (authenticated, rate limited)"] ?? Number.NaN,
      },
      notes: Object.entries(queries).map(([name, count]) => `${name}: ${count.toFixed(2)} database queries per request`),
    };
  },
};
