/**
 * `npm run bench [-- scenario ...] [--latency ms]`: the performance suite. Starts the platform as `npm run dev`
 * does, on its own ports with a throwaway database, with Gemini answered by the project's
 * zero-delay fake; runs every scenario (or those named) with its comparison in the same run;
 * writes bench/results/latest.json and latest.md; prints the table. `npm run bench:check` then
 * reads the results against bench/budgets.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startGeminiFake } from "../dev/gemini-fake/server.ts";
import { freePort } from "../dev/stack/ports.ts";
import { ROOT } from "../dev/stack/settings.ts";
import { startWranglerDev, writeEnvFile } from "../dev/stack/wrangler.ts";
import { oneWayDelayFromArgs } from "./latency-proxy.ts";
import { removeWorkerBundles } from "./miniflare-worker.ts";
import { PgRoundTrips } from "./pg-round-trips.ts";
import { authScenario } from "./scenarios/auth.ts";
import { bundleScenario } from "./scenarios/bundle.ts";
import { generationScenario } from "./scenarios/generation.ts";
import { listingScenario } from "./scenarios/listing.ts";
import { mixedScenario } from "./scenarios/mixed.ts";
import { roundTripsScenario } from "./scenarios/round-trips.ts";
import { servingScenario } from "./scenarios/serving.ts";
import { transformScenario } from "./scenarios/transform.ts";
import type { Scenario, ScenarioResult } from "./scenarios/types.ts";
import { usageScenario } from "./scenarios/usage.ts";
import { webhooksScenario } from "./scenarios/webhooks.ts";
import { startBenchPlatform } from "./support.ts";

const SCENARIOS: Scenario[] = [
  bundleScenario,
  authScenario,
  roundTripsScenario,
  generationScenario,
  servingScenario,
  transformScenario,
  listingScenario,
  usageScenario,
  webhooksScenario,
  mixedScenario,
];
const RESULTS = path.join(ROOT, "bench", "results");

function markdown(results: ScenarioResult[], header: string): string {
  const lines = [header, ""];
  for (const result of results) {
    lines.push(`### ${result.description}`, "");
    if (result.measurements.length > 0) {
      lines.push("| measurement | requests/s | median ms | p95 ms | p99 ms |", "| --- | --- | --- | --- | --- |");
      for (const m of result.measurements) {
        const fixed = (value: number | undefined, digits = 1) =>
          value === undefined || Number.isNaN(value) ? "" : value.toFixed(digits);
        lines.push(
          `| ${m.name} | ${fixed(m.requestsPerSecond, 0)} | ${fixed(m.medianMs)} | ${fixed(m.p95Ms)} | ${fixed(m.p99Ms)} |`,
        );
      }
      lines.push("");
    }
    const metrics = Object.entries(result.metrics).map(
      ([name, value]) => `${name} = ${Number.isInteger(value) ? value : value.toFixed(2)}`,
    );
    lines.push(...result.notes.map((note) => `- ${note}`), `- metrics: ${metrics.join(", ")}`, "");
  }
  return lines.join("\n");
}

async function main() {
  const { delayMs: oneWayDelayMs, rest: wanted } = oneWayDelayFromArgs(process.argv.slice(2));
  const unknown = wanted.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0)
    throw new Error(`Unknown scenario ${unknown.join(", ")}; choose from ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const selected = wanted.length ? SCENARIOS.filter((scenario) => wanted.includes(scenario.name)) : SCENARIOS;

  const fake = await startGeminiFake({ apiKey: "bench-key" });
  const roundTrips = new PgRoundTrips();
  const platform = await startBenchPlatform("suite", {
    vars: { GEMINI_API_KEY: "bench-key", GEMINI_BASE_URL: fake.url },
    observeDatabaseClient: roundTrips.observe,
    observeDatabaseRequest: roundTrips.observeHttp,
  });
  const offlineVars = path.join(os.tmpdir(), `banatie-bench-offline-${process.pid}.vars`);
  await writeEnvFile(offlineVars, { ...platform.stack.workerVars, IMAGE_EDGE_CACHE: "off" });
  const offline = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [offlineVars],
    persistTo: path.join(os.tmpdir(), `banatie-bench-offline-${process.pid}`),
    output: "ignore",
  });

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      console.log(`[bench] ${scenario.name}...`);
      results.push(await scenario.run({ platform, offline, fake, roundTrips, oneWayDelayMs }));
    }
  } finally {
    await removeWorkerBundles();
    await offline.stop();
    await platform.stop();
    await fake.stop();
  }

  const header = `## Benchmark ${new Date().toISOString()} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), Node ${process.version}`;
  const table = markdown(results, header);
  await mkdir(RESULTS, { recursive: true });
  const json = JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, results }, null, 2);
  await writeFile(path.join(RESULTS, "latest.json"), json);
  await writeFile(path.join(RESULTS, `${new Date().toISOString().replaceAll(":", "-")}.json`), json);
  await writeFile(path.join(RESULTS, "latest.md"), table);
  console.log(`\n${table}`);
}

await main();
