/**
 * `npm run deploy -- --env <name>`: takes one environment live. DATABASE_URL must name that
 * environment's database (Neon's direct URL), since the migrations are applied to it; wrangler
 * needs CLOUDFLARE_API_TOKEN (or `wrangler login`). `--dry-run` prints the plan and runs nothing.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../stack/settings.ts";
import { runInTerminal } from "./run.ts";
import { configPath, type DeployTarget, parseDeployArgs, UsageError, WORKER_TITLES, WORKERS } from "./workers.ts";

export interface DeployStep {
  title: string;
  command: string;
  args: string[];
}

/**
 * The steps of a deploy, in order, each run only once the one before it succeeded:
 * 1. the check, so nothing changes until every gap is known (pending migrations are the plan);
 * 2. the migrations: they add to the schema and drop only what the running code no longer uses,
 *    so the Workers still running keep working against the new schema (an index build holds
 *    its table's writes meanwhile: the deploy guide says when to build one beforehand), and the
 *    new code finds what it needs from its first request;
 * 3. the site build, which the API Worker uploads as its assets;
 * 4. the Workers, image delivery first (see WORKERS): the API then starts returning image URLs on
 *    the cdn host that already answer.
 */
export function deployPlan(target: DeployTarget): DeployStep[] {
  const configDir = path.relative(ROOT, target.configDir);
  const configDirArgs = configDir ? ["--config-dir", configDir] : [];
  return [
    {
      title: "check",
      command: "node",
      args: ["dev/deploy/check.ts", "--env", target.env, ...configDirArgs, "--allow-pending-migrations"],
    },
    { title: "migrate the database", command: "node", args: ["dev/migrate.ts"] },
    { title: "build the site", command: "astro", args: ["build", "--root", "site"] },
    ...WORKERS.map((worker) => ({
      title: `deploy the ${WORKER_TITLES[worker]} Worker`,
      command: "wrangler",
      args: ["deploy", "--config", path.relative(ROOT, configPath(target, worker)), "--env", target.env],
    })),
  ];
}

export function formatPlan(target: DeployTarget, steps: DeployStep[]): string {
  const width = Math.max(...steps.map((step) => step.title.length));
  const lines = steps.map(
    (step, index) => `  ${index + 1}. ${step.title.padEnd(width)}  ${[step.command, ...step.args].join(" ")}`,
  );
  return [`[banatie] deploy --env ${target.env}:`, ...lines].join("\n");
}

const USAGE = `usage: npm run deploy -- --env <name> [options]
  --dry-run             print the plan, run nothing
  --config-dir <dir>    where wrangler.toml and wrangler.delivery.toml are (default: the repository)`;

async function main(argv: string[]): Promise<number> {
  const { target, values } = parseDeployArgs(argv, USAGE, { "dry-run": { type: "boolean" } });
  const steps = deployPlan(target);
  console.log(formatPlan(target, steps));
  if (values["dry-run"]) {
    console.log("[banatie] --dry-run: nothing was run");
    return 0;
  }
  // Without it, `npm run db:migrate` would migrate the local stack instead of the environment's database.
  if (!process.env.DATABASE_URL) {
    console.error(`[banatie] DATABASE_URL must name the ${target.env} database: the migrations are applied to it`);
    return 1;
  }
  for (const [index, step] of steps.entries()) {
    console.log(`\n[banatie] ${index + 1}/${steps.length} ${step.title}`);
    const code = await runInTerminal(step.command, step.args);
    if (code !== 0) {
      console.error(`[banatie] ${step.title} failed (exit ${code}); the steps after it did not run`);
      return code;
    }
  }
  console.log(`\n[banatie] ${target.env} deployed`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : `[banatie] deploy failed: ${String(error)}`);
    return 1;
  });
}
