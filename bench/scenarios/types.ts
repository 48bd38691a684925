import type { GeminiFake } from "../../dev/gemini-fake/server.ts";
import type { WranglerDev } from "../../dev/stack/wrangler.ts";
import type { PgRoundTrips } from "../pg-round-trips.ts";
import type { BenchPlatform } from "../support.ts";

/** What every scenario gets: the platform (Gemini answered by the zero-delay fake) and helpers. */
export interface BenchContext {
  platform: BenchPlatform;
  /** A second Worker on the same stack: offline models, edge cache off. */
  offline: WranglerDev;
  fake: GeminiFake;
  roundTrips: PgRoundTrips;
  /** The delay the latency proxies add each way (`--latency`, default 20 ms). */
  oneWayDelayMs: number;
}

export interface Measurement {
  name: string;
  requestsPerSecond?: number;
  medianMs: number;
  p95Ms?: number;
  p99Ms?: number;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  measurements: Measurement[];
  /** Figures the budgets read, by name (see bench/budgets.json). */
  metrics: Record<string, number>;
  notes: string[];
}

export interface Scenario {
  name: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}
