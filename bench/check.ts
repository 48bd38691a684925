/**
 * `npm run bench:check`: reads bench/results/latest.json (from `npm run bench`) against
 * bench/budgets.json, prints each budget, and fails if one is missed or was not measured.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "../dev/stack/settings.ts";
import type { ScenarioResult } from "./scenarios/types.ts";

interface Budget {
  min?: number;
  max?: number;
  why: string;
}

const budgets = JSON.parse(await readFile(path.join(ROOT, "bench", "budgets.json"), "utf8")) as Record<string, Budget>;
const latest = JSON.parse(
  await readFile(path.join(ROOT, "bench", "results", "latest.json"), "utf8").catch(() => '{"results":[]}'),
) as {
  date?: string;
  results: ScenarioResult[];
};
const metrics = Object.assign({}, ...latest.results.map((result) => result.metrics)) as Record<string, number>;

let failed = 0;
console.log(`Budgets against the results of ${latest.date ?? "(no run yet: npm run bench)"}\n`);
for (const [name, budget] of Object.entries(budgets)) {
  const value = metrics[name];
  const limit = budget.max !== undefined ? `<= ${budget.max}` : `>= ${budget.min}`;
  const ok =
    value !== undefined && (budget.max === undefined || value <= budget.max) && (budget.min === undefined || value >= budget.min);
  if (!ok) failed++;
  const shown = value === undefined ? "not measured" : value.toFixed(2);
  console.log(`${ok ? "pass" : "FAIL"}  ${name} = ${shown} (${limit}): ${budget.why}`);
}
console.log(`\n${Object.keys(budgets).length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
