import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../stack/settings.ts";
import { QUIET_SETTINGS } from "../../stack/wrangler.ts";

/** Variables that configure Banatie, Cloudflare's tools or the Worker, when a developer exports them. */
const TOOL_VARIABLE = /^(BANATIE_|CLOUDFLARE_|WRANGLER_|MINIFLARE_)/;

/** Every setting the Worker reads: those .dev.vars.example documents (its Env type is generated from it). */
export function workerSettingNames(): string[] {
  const example = readFileSync(path.join(ROOT, ".dev.vars.example"), "utf8");
  return [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string);
}

/**
 * Takes out of `env` what a developer may have exported for Banatie, Cloudflare's tools
 * (CLOUDFLARE_INCLUDE_PROCESS_ENV would hand all of it to the Worker) or the Worker itself
 * (GEMINI_API_KEY, DATABASE_URL, ...), then sets the quiet tool settings the tests run with.
 * Done once when the test run starts, so every process a test starts inherits the result.
 */
export function scrubDeveloperEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const settings = new Set(workerSettingNames());
  for (const name of Object.keys(env)) {
    if (TOOL_VARIABLE.test(name) || settings.has(name)) delete env[name];
  }
  Object.assign(env, QUIET_SETTINGS);
}

/**
 * The Worker's settings for the workerd test pool before the tests add theirs: wrangler.toml's
 * [vars], and every other setting blank ("not set" to the Worker's configuration). The pool
 * reads a developer's .dev.vars (or .env) along with wrangler.toml and has no switch to stop
 * it; bindings given here win over it.
 */
export function baselineWorkerSettings(wranglerVars: Record<string, unknown>): Record<string, string> {
  const blank = Object.fromEntries(workerSettingNames().map((name) => [name, ""]));
  const declared = Object.entries(wranglerVars).map(([name, value]) => [name, String(value)]);
  return { ...blank, ...Object.fromEntries(declared) };
}
