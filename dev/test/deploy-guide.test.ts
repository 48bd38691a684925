import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../stack/index.ts";
import { freePort } from "../stack/ports.ts";
import { startWranglerDev, type WranglerDev, writeEnvFile } from "../stack/wrangler.ts";
import { readDeployGuide } from "./support/deploy-guide.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * The deploy guide's first-master-key commands, pasted as an operator would after the first
 * deploy, against a local Worker with staging's rules (bootstrap needs BOOTSTRAP_TOKEN).
 */

const GUIDE_API = "https://api-staging.banatie.app";
const BOOTSTRAP_TOKEN = "deploy-guide-bootstrap-token-0123456789";

let dir: Awaited<ReturnType<typeof tempDir>>;
let stack: Stack | undefined;
let worker: WranglerDev | undefined;

/** The guide's shell block that creates the first master key. */
function bootstrapBlock(): string {
  const blocks = [...readDeployGuide().matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
  const found = blocks.find((block) => block.includes("/api/bootstrap/initial-key"));
  if (!found) throw new Error("deploy.md has no shell block calling /api/bootstrap/initial-key");
  return found;
}

/** Runs a block in bash as a pasted sequence that stops at the first failing command. */
function paste(block: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", block], { cwd: dir.path, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await tempDir("deploy-guide");
  stack = await startStack({ dataDir: dir.path, ports: { postgres: 0, wsProxy: 0, s3: 0 }, persistent: false });
  const envFile = path.join(dir.path, "staging.vars");
  await writeEnvFile(envFile, { ...stack.workerVars, ENVIRONMENT: "staging", BOOTSTRAP_TOKEN });
  const assets = path.join(dir.path, "no-site");
  await mkdir(assets);
  worker = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [envFile],
    persistTo: path.join(dir.path, "wrangler"),
    output: "ignore",
    assetsDir: assets,
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  await dir?.remove();
});

describe("the deploy guide's first master key", () => {
  it("runs as pasted: a master key from the bootstrap token, then a project key that works", async () => {
    const block = bootstrapBlock().replaceAll(GUIDE_API, worker?.url as string);
    const first = await paste(block, { BOOTSTRAP_TOKEN });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const [masterKey, projectKey] = first.stdout.trim().split("\n");
    expect(masterKey).toMatch(/^bnt_mk_/);
    expect(projectKey).toMatch(/^bnt_pk_/);
    const me = await fetch(`${worker?.url}/api/me`, { headers: { "X-API-Key": projectKey as string } });
    expect(me.status).toBe(200);
    await me.body?.cancel();

    // Pasted again, it stops at the bootstrap with the platform's reason.
    const again = await paste(block, { BOOTSTRAP_TOKEN });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("BOOTSTRAP_COMPLETED: ");
    expect(again.stdout).toBe("");
  });

  it("names the token it needs when it is missing from the shell", async () => {
    const block = bootstrapBlock().replaceAll(GUIDE_API, worker?.url as string);
    const run = await paste(block, { BOOTSTRAP_TOKEN: "" });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("BOOTSTRAP_TOKEN_REQUIRED: Send the deployment's BOOTSTRAP_TOKEN");
  });
});
