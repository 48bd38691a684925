import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../stack/index.ts";
import { freePort } from "../stack/ports.ts";
import { ROOT } from "../stack/settings.ts";
import { startWranglerDev, type WranglerDev, writeEnvFile } from "../stack/wrangler.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * `npm run smoke` against the platform as it is deployed, locally: the API Worker and the image
 * delivery Worker (wrangler.delivery.toml) under `wrangler dev`, the API handing out image URLs
 * on the delivery Worker's origin (PUBLIC_CDN_URL). Both share one persisted state, so the edge
 * cache is one, as it is for two Workers in one zone.
 */

let dir: Awaited<ReturnType<typeof tempDir>>;
let stack: Stack;
let api: WranglerDev | undefined;
let cdn: WranglerDev | undefined;
let projectKey: string;

async function data<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { data: T }).data;
}

function smoke(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["dev/smoke/smoke.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  dir = await tempDir("smoke");
  stack = await startStack({ dataDir: dir.path, ports: { postgres: 0, wsProxy: 0, s3: 0 }, persistent: false });
  const cdnPort = await freePort();
  const envFile = path.join(dir.path, "worker.vars");
  // Development bootstraps without a token.
  await writeEnvFile(envFile, {
    ...stack.workerVars,
    ENVIRONMENT: "development",
    PUBLIC_CDN_URL: `http://127.0.0.1:${cdnPort}`,
  });
  const assets = path.join(dir.path, "assets");
  await mkdir(assets);
  const persistTo = path.join(dir.path, "wrangler");
  [api, cdn] = await Promise.all([
    startWranglerDev({
      port: await freePort(),
      inspectorPort: await freePort(),
      envFiles: [envFile],
      persistTo,
      output: "ignore",
      assetsDir: assets,
    }),
    startWranglerDev({
      port: cdnPort,
      inspectorPort: await freePort(),
      envFiles: [envFile],
      persistTo,
      output: "ignore",
      configPath: "wrangler.delivery.toml",
    }),
  ]);
  const master = await data<{ apiKey: string }>(await fetch(`${api.url}/api/bootstrap/initial-key`, { method: "POST" }));
  projectKey = (
    await data<{ apiKey: string }>(
      await fetch(`${api.url}/api/admin/keys`, {
        method: "POST",
        headers: { "X-API-Key": master.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "project", name: "smoke", projectSlug: "smoke" }),
      }),
    )
  ).apiKey;
}, 180_000);

afterAll(async () => {
  await Promise.all([api?.stop(), cdn?.stop()]);
  await stack?.stop();
  await dir?.remove();
});

describe("npm run smoke", { timeout: 120_000 }, () => {
  it("passes every step of the first-hour journey, images through the CDN host, and never prints the key", async () => {
    const { code, output } = await smoke([api?.url ?? "", "--key", projectKey, "--cdn", cdn?.url ?? ""]);

    expect(output).not.toContain(projectKey);
    for (const step of ["health", "info", "me", "generate", "image URL", "preset", "listing", "delete"]) {
      expect(output, output).toMatch(new RegExp(`^PASS  ${step} +\\d+ ms`, "m"));
    }
    expect(output).toContain(`${cdn?.url}/default/smoke/generated/`);
    expect(output).toContain("All 8 steps passed");
    expect(code).toBe(0);
  });

  it("fails, exiting 1, when the key is not accepted, and skips what needs it", async () => {
    const wrongKey = `${projectKey.slice(0, -4)}AAAA`;
    const { code, output } = await smoke([api?.url ?? "", "--key", wrongKey]);

    expect(output).toMatch(/^PASS {2}health/m);
    expect(output).toMatch(/^FAIL {2}me .*401/m);
    expect(output).toMatch(/^FAIL {2}generate .*skipped/m);
    expect(output).not.toContain(wrongKey);
    expect(code).toBe(1);
  });

  it("refuses to run without a key, exiting 2 with the usage", async () => {
    const { code, output } = await smoke([api?.url ?? ""]);
    expect(output).toContain("usage: npm run smoke");
    expect(code).toBe(2);
  });
});
