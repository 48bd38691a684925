import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { type Stack, type StackOptions, startStack } from "../dev/stack/index.ts";
import { freePort } from "../dev/stack/ports.ts";
import { ROOT } from "../dev/stack/settings.ts";
import { QUIET_ENV, startWranglerDev, type WranglerDev, writeEnvFile } from "../dev/stack/wrangler.ts";
import { tempDir } from "../dev/test/support/temp-dir.ts";

export interface BenchPlatform {
  stack: Stack;
  worker: WranglerDev;
  /** A project key with a quota large enough for any benchmark. */
  projectKey: string;
  masterKey: string;
  stop(): Promise<void>;
}

/**
 * The platform as `npm run dev` runs it, on free ports with a throwaway database: the stack,
 * `wrangler dev` with `vars` on top, a bootstrapped master key and a project key.
 */
export async function startBenchPlatform(
  name: string,
  options: {
    vars?: Record<string, string>;
    observeDatabaseClient?: StackOptions["observeDatabaseClient"];
    observeDatabaseRequest?: StackOptions["observeDatabaseRequest"];
  } = {},
): Promise<BenchPlatform> {
  const dir = await tempDir(`bench-${name}`);
  const stack = await startStack({
    dataDir: dir.path,
    ports: { postgres: 0, wsProxy: 0, s3: 0 },
    persistent: false,
    observeDatabaseClient: options.observeDatabaseClient,
    observeDatabaseRequest: options.observeDatabaseRequest,
  });
  const envFile = path.join(dir.path, "bench.vars");
  // Outside development, bootstrapping needs the deployment's token.
  const bootstrapToken = crypto.randomUUID().repeat(2);
  const vars = { ...stack.workerVars, ENVIRONMENT: "test", BOOTSTRAP_TOKEN: bootstrapToken, ...options.vars };
  await writeEnvFile(envFile, vars);
  if (!existsSync(path.join(ROOT, "site", "dist")))
    spawnSync("astro", ["build", "--root", "site", "--silent"], { cwd: ROOT, env: QUIET_ENV });
  const worker = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [envFile],
    persistTo: path.join(dir.path, "wrangler"),
    output: "ignore",
  });
  const stop = async () => {
    await worker.stop();
    await stack.stop();
    await dir.remove();
  };
  try {
    const bootstrap = (await (
      await fetch(`${worker.url}/api/bootstrap/initial-key`, {
        method: "POST",
        headers: { "X-Bootstrap-Token": bootstrapToken },
      })
    ).json()) as {
      data: { apiKey: string };
    };
    const projectKey = await createProjectKey(worker.url, bootstrap.data.apiKey, "bench");
    return { stack, worker, projectKey, masterKey: bootstrap.data.apiKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A project key (its project created on first use) with a quota no benchmark reaches. Each key
 * has its own burst limit (500 requests per 10 s), so a scenario that sends more gives each
 * measurement a key of its own.
 */
export async function createProjectKey(url: string, masterKey: string, project: string): Promise<string> {
  const response = await fetch(`${url}/api/admin/keys`, {
    method: "POST",
    headers: { "X-API-Key": masterKey, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "project", name: project, projectSlug: project, rateLimitPerHour: 1_000_000 }),
  });
  if (response.status !== 201) throw new Error(`creating a key for ${project}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: { apiKey: string } }).data.apiKey;
}
