import type { DeployedWorker } from "../../worker/src/config.ts";
import { runQuiet, toolError } from "./run.ts";
import { configPath, type DeployTarget } from "./workers.ts";

/** The names of the secrets a Worker has (never their values), or why they cannot be known. */
export type SecretNames = { names: string[]; source: string } | { error: string };

/**
 * Where the check learns which secrets are set, names only:
 * - with CLOUDFLARE_API_TOKEN set, from Cloudflare (`wrangler secret list --env <name>`), per Worker;
 * - otherwise from DEPLOY_SECRETS, a comma- or space-separated list of the secret names set on
 *   the environment's Workers (CI checks the configuration with placeholder names this way).
 */
export async function secretNames(
  target: DeployTarget,
  worker: DeployedWorker,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretNames> {
  if (env.CLOUDFLARE_API_TOKEN) return listSecretsOnCloudflare(target, worker);
  if (env.DEPLOY_SECRETS !== undefined) {
    return { names: env.DEPLOY_SECRETS.split(/[\s,]+/).filter(Boolean), source: "DEPLOY_SECRETS" };
  }
  return {
    error:
      "no secret list: set CLOUDFLARE_API_TOKEN to read it from Cloudflare, or name the secrets that are set in DEPLOY_SECRETS",
  };
}

async function listSecretsOnCloudflare(target: DeployTarget, worker: DeployedWorker): Promise<SecretNames> {
  const args = ["secret", "list", "--config", configPath(target, worker), "--env", target.env, "--format", "json"];
  const result = await runQuiet("wrangler", args);
  if (result.code !== 0) return { error: `wrangler secret list failed: ${toolError(result)}` };
  try {
    // Only the JSON array: wrangler may print its banner before it.
    const secrets = JSON.parse(result.stdout.slice(result.stdout.indexOf("["))) as { name: string }[];
    return { names: secrets.map((secret) => secret.name), source: "wrangler secret list" };
  } catch {
    return { error: "wrangler secret list answered something other than JSON" };
  }
}
