/**
 * `npm run deploy:check -- --env <name>`: everything that would make a deploy of that environment
 * fail or break, checked before anything is deployed. Prints one line per check and exits
 * non-zero on any gap. Reads and bundles only: it changes nothing on Cloudflare or in the
 * database (it builds the site when site/dist is missing, since the API Worker's dry run needs it).
 *
 * Secret names (never values) come from `wrangler secret list` when CLOUDFLARE_API_TOKEN is set,
 * else from DEPLOY_SECRETS (see secrets.ts). With DATABASE_URL set, the environment's database is
 * compared with drizzle/ (DATABASE_WS_PROXY as for `npm run db:migrate`).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Unstable_Config } from "wrangler";
import { ROOT } from "../stack/settings.ts";
import { checkBundleSize, checkDryRun, dryRun } from "./bundle.ts";
import { type CheckResult, fail, formatChecklist, hasGaps, pass } from "./checklist.ts";
import { checkCompatibility } from "./compatibility.ts";
import { checkMigrations } from "./migrations-check.ts";
import { runQuiet, toolError } from "./run.ts";
import { secretNames } from "./secrets.ts";
import { checkSettings } from "./settings.ts";
import { type DeployTarget, parseDeployArgs, readWorkerConfig, UsageError, WORKERS } from "./workers.ts";

export interface DeployCheckOptions {
  /** Where DEPLOY_SECRETS, CLOUDFLARE_API_TOKEN, DATABASE_URL and DATABASE_WS_PROXY are read. */
  env?: NodeJS.ProcessEnv;
  /** Pending migrations are what `npm run deploy` applies next, not a gap. */
  pendingMigrationsAllowed?: boolean;
}

/** Runs every check for one environment; the results are in checklist order. */
export async function runDeployCheck(target: DeployTarget, options: DeployCheckOptions = {}): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  let configs: { api: Unstable_Config; delivery: Unstable_Config };
  try {
    configs = { api: readWorkerConfig(target, "api"), delivery: readWorkerConfig(target, "delivery") };
  } catch (error) {
    return [fail("configuration", error instanceof Error ? error.message : String(error))];
  }

  const assets = await ensureAssets(configs.api);
  const outdir = await mkdtemp(path.join(os.tmpdir(), "banatie-deploy-check-"));
  try {
    const [settings, runs, migrations] = await Promise.all([
      Promise.all(
        WORKERS.map(async (worker) => checkSettings(target, worker, configs[worker], await secretNames(target, worker, env))),
      ),
      Promise.all(WORKERS.map((worker) => dryRun(target, worker, path.join(outdir, worker)))),
      checkMigrations({
        databaseUrl: env.DATABASE_URL || undefined,
        wsProxy: env.DATABASE_WS_PROXY || undefined,
        pendingAllowed: options.pendingMigrationsAllowed,
      }),
    ]);
    return [
      ...settings,
      checkCompatibility(configs.api, configs.delivery),
      ...(assets ? [assets] : []),
      ...WORKERS.map((worker, index) => checkDryRun(worker, runs[index] as (typeof runs)[number], target)),
      ...WORKERS.map((worker, index) => checkBundleSize(worker, runs[index] as (typeof runs)[number])),
      migrations,
    ];
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

/** The API Worker uploads the built site: build it when missing, so its dry run can run. */
async function ensureAssets(api: Unstable_Config): Promise<CheckResult | undefined> {
  if (!api.assets?.directory || !api.configPath) return undefined;
  const directory = path.resolve(path.dirname(api.configPath), api.assets.directory);
  if (existsSync(directory)) return undefined;
  if (directory !== path.join(ROOT, "site", "dist")) return fail("site", `the assets directory ${directory} does not exist`);
  const build = await runQuiet("astro", ["build", "--root", "site", "--silent"]);
  return build.code === 0
    ? pass("site", "site/dist was missing: built it")
    : fail("site", `astro build failed: ${toolError(build)}`);
}

const USAGE = `usage: npm run deploy:check -- --env <name> [options]
  --config-dir <dir>            where wrangler.toml and wrangler.delivery.toml are (default: the repository)
  --allow-pending-migrations    migrations not yet applied are no gap (npm run deploy applies them next)`;

async function main(argv: string[]): Promise<number> {
  const { target, values } = parseDeployArgs(argv, USAGE, { "allow-pending-migrations": { type: "boolean" } });
  console.log(`[banatie] deploy:check --env ${target.env}`);
  const results = await runDeployCheck(target, { pendingMigrationsAllowed: values["allow-pending-migrations"] === true });
  console.log(formatChecklist(results));
  const gaps = results.filter((result) => result.status === "fail").length;
  console.log(
    hasGaps(results)
      ? `[banatie] ${gaps} gap(s): ${target.env} is not ready to deploy`
      : `[banatie] ${target.env} is ready to deploy`,
  );
  return hasGaps(results) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : `[banatie] deploy:check failed: ${String(error)}`);
    return 1;
  });
}
