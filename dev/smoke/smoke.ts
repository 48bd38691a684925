/**
 * `npm run smoke -- <base URL> --key <project key> [--cdn <CDN base URL>]`: the first-hour
 * journey (dev/smoke/journey.ts) against any deployment, one line per step with its time.
 * Exits 1 when a step fails, 2 on bad arguments. The key is never printed.
 */
import { parseArgs } from "node:util";
import { runSmoke, type StepResult } from "./journey.ts";

const USAGE = "usage: npm run smoke -- <base URL> --key <project key> [--cdn <CDN base URL>]";

function origin(value: string | undefined, name: string): string {
  if (!value || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    console.error(`${name} must be an http(s) URL\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

function parse() {
  try {
    return parseArgs({ allowPositionals: true, options: { key: { type: "string" }, cdn: { type: "string" } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const { positionals, values } = parse();
const baseUrl = origin(positionals[0], "the base URL");
const cdnUrl = values.cdn === undefined ? undefined : origin(values.cdn, "--cdn");
if (!values.key) {
  console.error(`--key is required\n${USAGE}`);
  process.exit(2);
}

console.log(`Smoke test of ${baseUrl}${cdnUrl ? ` (images on ${cdnUrl})` : ""}`);
const print = (step: StepResult) =>
  console.log(`${step.ok ? "PASS" : "FAIL"}  ${step.name.padEnd(10)} ${String(step.ms).padStart(6)} ms  ${step.detail}`);
const results = await runSmoke({ baseUrl, key: values.key, cdnUrl }, print);
const failed = results.filter((step) => !step.ok).length;
console.log(failed ? `${failed} of ${results.length} steps failed` : `All ${results.length} steps passed`);
process.exit(failed ? 1 : 0);
