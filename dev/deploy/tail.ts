/**
 * `npm run tail -- --env <name> [--worker api|delivery] [-- <wrangler tail options>]`: the live
 * logs of an environment's Workers (both unless --worker says which), each line marked with the
 * Worker it came from. Options after `--` go to `wrangler tail` (e.g. `-- --status error`).
 */
import { spawn } from "node:child_process";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import type { DeployedWorker } from "../../worker/src/config.ts";
import { ROOT } from "../stack/settings.ts";
import { QUIET_ENV } from "../stack/wrangler.ts";
import { configPath, type DeployTarget, parseDeployArgs, UsageError, WORKERS } from "./workers.ts";

export interface TailCommand {
  worker: DeployedWorker;
  args: string[];
}

/** The `wrangler tail` command line of each chosen Worker. */
export function tailCommands(target: DeployTarget, workers: readonly DeployedWorker[], extra: string[] = []): TailCommand[] {
  return workers.map((worker) => ({
    worker,
    args: ["tail", "--config", configPath(target, worker), "--env", target.env, ...extra],
  }));
}

/** Runs the commands side by side; with more than one, each output line starts with its Worker. */
function runTails(commands: TailCommand[]): Promise<number> {
  const prefixed = commands.length > 1;
  const exits = commands.map(
    ({ worker, args }) =>
      new Promise<number>((resolve) => {
        const child = spawn("wrangler", args, {
          cwd: ROOT,
          env: QUIET_ENV,
          stdio: ["ignore", prefixed ? "pipe" : "inherit", prefixed ? "pipe" : "inherit"],
        });
        if (prefixed) {
          for (const [stream, out] of [
            [child.stdout, process.stdout],
            [child.stderr, process.stderr],
          ] as const) {
            if (stream) readline.createInterface({ input: stream }).on("line", (line) => out.write(`[${worker}] ${line}\n`));
          }
        }
        child.once("error", () => resolve(1));
        child.once("exit", (code) => resolve(code ?? 0));
      }),
  );
  return Promise.all(exits).then((codes) => codes.find((code) => code !== 0) ?? 0);
}

const USAGE = `usage: npm run tail -- --env <name> [options] [-- <wrangler tail options>]
  --worker api|delivery   one Worker only (default: both)
  --config-dir <dir>      where wrangler.toml and wrangler.delivery.toml are (default: the repository)`;

/** The Workers `--worker` names: one of them, or both when unset. */
export function chosenWorkers(worker: string | undefined): readonly DeployedWorker[] {
  if (worker === undefined) return WORKERS;
  if (!(WORKERS as readonly string[]).includes(worker)) throw new UsageError(`--worker must be api or delivery\n${USAGE}`);
  return [worker as DeployedWorker];
}

async function main(argv: string[]): Promise<number> {
  const { target, values, positionals } = parseDeployArgs(argv, USAGE, { worker: { type: "string" } }, true);
  const workers = chosenWorkers(values.worker as string | undefined);
  return runTails(tailCommands(target, workers, positionals));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : `[banatie] tail failed: ${String(error)}`);
    return 1;
  });
}
