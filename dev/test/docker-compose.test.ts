import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPOSE_FILE, COMPOSE_SERVICES, COMPOSE_WORKER_VARS } from "../stack/compose.ts";
import { BUCKET } from "../stack/index.ts";
import { freePort } from "../stack/ports.ts";
import { ROOT } from "../stack/settings.ts";
import { dockerRecipeVars } from "./support/deploy-guide.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * This machine has no Docker, so `docker compose config` and `up` cannot run here. What can be
 * checked is what a Docker user relies on: every service of `npm run dev` has its container,
 * each pinned and health-checked, on the ports and credentials the deploy guide's recipe uses;
 * and `npm run dev -- --compose` says clearly when Docker is missing.
 */

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(COMPOSE_FILE, "utf8")) as { services: Record<string, ComposeService> };
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

describe("docker-compose.yml", () => {
  it("has a service for each one `npm run dev` starts, and every service is health-checked", () => {
    for (const name of Object.values(COMPOSE_SERVICES)) expect(compose.services).toHaveProperty(name);
    // `up --wait` waits for health checks; a service that exits (a one-shot) would fail it.
    for (const [name, entry] of Object.entries(compose.services)) {
      expect(entry.healthcheck?.test, `${name} has no health check`).toEqual(expect.any(Array));
    }
  });

  it("pins every image to a release, or builds it from a source commit", () => {
    for (const [name, entry] of Object.entries(compose.services)) {
      if (entry.build !== undefined) {
        expect(entry.build, `${name} builds from a moving ref`).toMatch(/\.git#[0-9a-f]{40}$/);
      } else {
        expect(entry.image, `${name} has a moving image tag`).toMatch(/^[\w./-]+:(?!latest$)[\w.-]*\d[\w.-]*$/);
      }
    }
    // PostgreSQL 17, as the embedded stack and Neon run.
    expect(service(COMPOSE_SERVICES.postgres).image).toMatch(/^postgres:17\.\d+-bookworm$/);
    expect(service(COMPOSE_SERVICES.s3).image).toMatch(/^minio\/minio:RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z$/);
    // The SQL-over-HTTP server runs this checkout's code on the Node every script here runs on.
    const { devDependencies } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(service(COMPOSE_SERVICES.neonHttp).image).toBe(`node:${devDependencies.node}-bookworm-slim`);
  });

  it("publishes the ports and credentials of the guide's Docker recipe, which --compose uses", () => {
    const recipe = dockerRecipeVars();
    expect(COMPOSE_WORKER_VARS).toMatchObject(recipe);

    const database = new URL(COMPOSE_WORKER_VARS.DATABASE_URL);
    const postgres = service(COMPOSE_SERVICES.postgres).environment;
    expect([database.username, database.password, database.pathname.slice(1)]).toEqual([
      postgres?.POSTGRES_USER,
      postgres?.POSTGRES_PASSWORD,
      postgres?.POSTGRES_DB,
    ]);
    // The proxy, inside Docker, connects to the URL's host: the postgres service, which it must allow.
    expect(database.hostname).toBe(COMPOSE_SERVICES.postgres);
    const wsProxy = service(COMPOSE_SERVICES.wsProxy);
    expect(`${database.hostname}:${database.port}`).toMatch(new RegExp(wsProxy.environment?.ALLOW_ADDR_REGEX ?? "^$"));
    expect(wsProxy.ports).toContain(`${COMPOSE_WORKER_VARS.DATABASE_WS_PROXY}:80`);
    // So does the SQL-over-HTTP server, which answers the Worker's statements on the endpoint's port.
    const sqlHttp = service(COMPOSE_SERVICES.neonHttp);
    expect(sqlHttp.environment?.NEON_HTTP_ALLOW?.split(",")).toContain(`${database.hostname}:${database.port}`);
    const endpoint = new URL(COMPOSE_WORKER_VARS.DATABASE_HTTP_ENDPOINT);
    expect([endpoint.hostname, endpoint.pathname]).toEqual(["127.0.0.1", "/sql"]);
    expect(sqlHttp.ports).toContain(`127.0.0.1:${endpoint.port}:80`);

    const minio = service(COMPOSE_SERVICES.s3);
    expect(minio.ports).toContain(`127.0.0.1:${new URL(COMPOSE_WORKER_VARS.S3_ENDPOINT).port}:9000`);
    expect([minio.environment?.MINIO_ROOT_USER, minio.environment?.MINIO_ROOT_PASSWORD]).toEqual([
      COMPOSE_WORKER_VARS.S3_ACCESS_KEY_ID,
      COMPOSE_WORKER_VARS.S3_SECRET_ACCESS_KEY,
    ]);
    // MinIO is healthy only with the bucket the Worker uses.
    expect(COMPOSE_WORKER_VARS.S3_BUCKET).toBe(BUCKET);
    expect(minio.healthcheck?.test.join(" ")).toContain(`mc mb --ignore-existing local/${BUCKET}`);
  });
});

describe("npm run dev -- --compose", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await tempDir("compose");
    const ports = ["BANATIE_PORT", "BANATIE_INSPECTOR_PORT", "BANATIE_PG_PORT", "BANATIE_WS_PORT", "BANATIE_S3_PORT"];
    env = {
      ...process.env,
      BANATIE_DATA_DIR: dir.path,
      BANATIE_DEV_VARS: path.join(dir.path, "settings.vars"),
      ...Object.fromEntries(await Promise.all(ports.map(async (name) => [name, String(await freePort())]))),
    };
  });

  afterAll(async () => {
    await dir?.remove();
  });

  /** Runs `npm run dev` with these arguments until it exits (or 30 s pass). */
  function runDev(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["dev/dev.ts", ...args], { cwd: ROOT, env: { ...env, ...extraEnv } });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const timer = setTimeout(() => child.kill("SIGINT"), 30_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  it("without Docker, stops at once saying what it needs and what works instead", async () => {
    // An empty PATH: no `docker` to find, whatever this machine has.
    const { code, output } = await runDev(["--compose"], { PATH: dir.path });
    expect(code).toBe(1);
    expect(output).toContain("--compose needs Docker, and there is no `docker` command on PATH");
    expect(output).toContain("`npm run dev` (no --compose) runs the same services embedded");
    expect(output).not.toContain("Banatie is running");
  });

  it("with Docker but no engine, starts the compose file's services and reports why they did not come up", async () => {
    // A stand-in `docker` that records its arguments and fails `up` as Docker does without an engine.
    const bin = path.join(dir.path, "bin");
    const calls = path.join(dir.path, "docker-calls");
    await mkdir(bin);
    await writeFile(
      path.join(bin, "docker"),
      `#!/bin/sh\necho "$*" >> "${calls}"\n[ "$2" = "-f" ] && [ "$4" = "up" ] && exit 1\nexit 0\n`,
      { mode: 0o755 },
    );
    const { code, output } = await runDev(["--compose"], { PATH: `${bin}:${process.env.PATH}` });
    expect(code).toBe(1);
    expect(output).toContain("docker compose up -d --wait exited with 1 (is the Docker engine running?)");
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual([
      `compose -f ${COMPOSE_FILE} version`,
      `compose -f ${COMPOSE_FILE} up -d --wait`,
    ]);
  });

  it("refuses an unknown option with its usage", async () => {
    const { code, output } = await runDev(["--composee"]);
    expect(code).toBe(2);
    expect(output).toContain("Usage: npm run dev [-- --compose]");
  });
});
