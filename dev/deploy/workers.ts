import path from "node:path";
import { parseArgs } from "node:util";
import { experimental_readRawConfig, type Unstable_Config, unstable_readConfig } from "wrangler";
import type { DeployedWorker } from "../../worker/src/config.ts";
import { ROOT } from "../stack/settings.ts";

/**
 * The two Workers of every environment, in deploy order: image delivery first, so that the
 * image URLs the new API starts returning (on PUBLIC_CDN_URL) already resolve when it goes out.
 */
export const WORKERS: readonly DeployedWorker[] = ["delivery", "api"];

/** How messages name each Worker. */
export const WORKER_TITLES: { readonly [Worker in DeployedWorker]: string } = { api: "API", delivery: "image delivery" };

const CONFIG_FILES: { readonly [Worker in DeployedWorker]: string } = {
  api: "wrangler.toml",
  delivery: "wrangler.delivery.toml",
};

/** Where the wrangler files of one deployment live: the repository, or a test's copies of them. */
export interface DeployTarget {
  env: string;
  configDir: string;
}

export function configPath(target: Pick<DeployTarget, "configDir">, worker: DeployedWorker): string {
  return path.join(target.configDir, CONFIG_FILES[worker]);
}

/** The configuration wrangler deploys for this Worker and environment (with what it inherits). */
export function readWorkerConfig(target: DeployTarget, worker: DeployedWorker): Unstable_Config {
  return unstable_readConfig({ config: configPath(target, worker), env: target.env });
}

/** The environments wrangler.toml declares (`[env.<name>]`). */
export function declaredEnvironments(configDir: string): string[] {
  const { rawConfig } = experimental_readRawConfig({ config: configPath({ configDir }, "api") });
  return Object.keys(rawConfig.env ?? {});
}

/** A command line the user got wrong: the message says how to call it. */
export class UsageError extends Error {}

/**
 * Reads `--env <name>` (required, one of the declared environments), `--config-dir <dir>` (where
 * the wrangler files are; the repository by default) and the options each script adds; with
 * `passThrough`, what follows `--` is returned as `positionals` for the tool the script runs.
 */
export function parseDeployArgs<Options extends Record<string, { type: "string" | "boolean" }>>(
  argv: string[],
  usage: string,
  options: Options = {} as Options,
  passThrough = false,
) {
  let parsed: ReturnType<typeof parseArgs<{ options: Options & typeof COMMON_OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: passThrough });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  }
  const values = parsed.values as { env?: string; "config-dir"?: string } & Record<string, unknown>;
  const configDir = path.resolve(ROOT, values["config-dir"] ?? ".");
  const environments = declaredEnvironments(configDir);
  if (!values.env || !environments.includes(values.env)) {
    throw new UsageError(`--env must be one of ${environments.join(", ")}\n${usage}`);
  }
  return { target: { env: values.env, configDir }, values: parsed.values, positionals: parsed.positionals };
}

const COMMON_OPTIONS = {
  env: { type: "string" },
  "config-dir": { type: "string" },
} as const;
