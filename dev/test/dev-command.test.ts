import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withNeonPool } from "../stack/migrations.ts";
import { assertPortFree, freePort } from "../stack/ports.ts";
import { localPostgresUrl } from "../stack/postgres.ts";
import { ROOT } from "../stack/settings.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * `npm run dev` as a newcomer uses it: up on embedded defaults, healthy, the deep health check
 * 503 when PostgreSQL stops, everything gone after Ctrl-C, and the data still there on the next run.
 */

type Ports = Record<
  "BANATIE_PORT" | "BANATIE_INSPECTOR_PORT" | "BANATIE_PG_PORT" | "BANATIE_WS_PORT" | "BANATIE_S3_PORT" | "BANATIE_HTTP_PORT",
  number
>;

let dir: Awaited<ReturnType<typeof tempDir>>;
let ports: Ports;
let running: ChildProcess | undefined;

async function startDev(): Promise<{ child: ChildProcess; output: () => string }> {
  const env = {
    ...process.env,
    BANATIE_DATA_DIR: dir.path,
    // Not the developer's .dev.vars: a real GEMINI_API_KEY or DATABASE_URL there must not reach the test.
    BANATIE_DEV_VARS: path.join(dir.path, "settings.vars"),
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  const child = spawn(process.execPath, ["dev/dev.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  running = child;
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + 90_000;
  while (!output.includes("Banatie is running")) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm run dev did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, output: () => output };
}

function stopDev(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGINT");
  });
}

async function health(): Promise<{ status: number; body: { status: string } }> {
  const response = await fetch(`http://127.0.0.1:${ports.BANATIE_PORT}/health`);
  return { status: response.status, body: (await response.json()) as never };
}

/** The deep check, with the master key that development bootstraps without a token. */
async function deepHealth(
  masterKey: string,
): Promise<{ status: number; body: { checks?: Record<string, { status: string }>; code?: string } }> {
  const response = await fetch(`http://127.0.0.1:${ports.BANATIE_PORT}/api/admin/health`, {
    headers: { "X-API-Key": masterKey },
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function bootstrapMasterKey(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${ports.BANATIE_PORT}/api/bootstrap/initial-key`, { method: "POST" });
  return ((await response.json()) as { data: { apiKey: string } }).data.apiKey;
}

/** SQL through the dev stack's own WebSocket proxy, as the Worker reaches the database. */
async function sql<T>(statement: string): Promise<T[]> {
  const url = localPostgresUrl(ports.BANATIE_PG_PORT, "banatie");
  return withNeonPool(url, `127.0.0.1:${ports.BANATIE_WS_PORT}`, async (pool) => (await pool.query(statement)).rows as T[]);
}

beforeAll(async () => {
  dir = await tempDir("dev");
  ports = {
    BANATIE_PORT: await freePort(),
    BANATIE_INSPECTOR_PORT: await freePort(),
    BANATIE_PG_PORT: await freePort(),
    BANATIE_WS_PORT: await freePort(),
    BANATIE_S3_PORT: await freePort(),
    BANATIE_HTTP_PORT: await freePort(),
  };
});

afterAll(async () => {
  if (running && running.exitCode === null) await stopDev(running);
  await dir?.remove();
});

describe("npm run dev", { timeout: 240_000 }, () => {
  it("comes up healthy, reports the database down when PostgreSQL stops, and stops everything on Ctrl-C", async () => {
    const first = await startDev();
    expect(first.output()).toContain(`http://127.0.0.1:${ports.BANATIE_PORT}`);

    const up = await health();
    expect(up.status).toBe(200);
    expect(up.body.status).toBe("ok");
    const masterKey = await bootstrapMasterKey();
    const deep = await deepHealth(masterKey);
    expect(deep.status).toBe(200);
    expect(deep.body.checks?.database?.status).toBe("up");
    expect(deep.body.checks?.storage?.status).toBe("up");

    const site = await fetch(`http://127.0.0.1:${ports.BANATIE_PORT}/`);
    expect(site.status).toBe(200);
    expect(await site.text()).toContain("Banatie");

    // Data written in this run must be there in the next one.
    await sql("insert into organizations (slug, name) values ('survivor', 'Survives restarts')");

    // Stop PostgreSQL the way an operator would: signal the postmaster.
    const pid = Number((await readFile(path.join(dir.path, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);
    process.kill(pid, "SIGINT");
    await expect.poll(async () => (await deepHealth(masterKey)).status, { timeout: 15_000 }).toBe(503);
    // The key cannot be checked without the database, so the deep check names it in its problem.
    expect((await deepHealth(masterKey)).body.code).toBe("DATABASE_UNAVAILABLE");
    // The public check is shallow: the Worker itself is still up.
    expect((await health()).status).toBe(200);

    expect(await stopDev(first.child)).toBe(130);
    for (const [variable, port] of Object.entries(ports)) {
      await expect(assertPortFree(port, variable, variable), `${variable} still held after Ctrl-C`).resolves.toBeUndefined();
    }

    const second = await startDev();
    expect((await health()).status).toBe(200);
    expect(await sql<{ name: string }>("select name from organizations where slug = 'survivor'")).toEqual([
      { name: "Survives restarts" },
    ]);
    expect(await stopDev(second.child)).toBe(130);
  });

  it("refuses to start when a port is taken, naming the port and the variable to change", async () => {
    const blocker = net.createServer().listen(ports.BANATIE_S3_PORT, "127.0.0.1");
    try {
      const env = {
        ...process.env,
        BANATIE_DATA_DIR: dir.path,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      };
      const child = spawn(process.execPath, ["dev/dev.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stderr.on("data", (chunk) => (output += chunk));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(output).toContain(`Port ${ports.BANATIE_S3_PORT}`);
      expect(output).toContain("BANATIE_S3_PORT");
    } finally {
      blocker.close();
    }
  });
});
