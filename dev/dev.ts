/**
 * `npm run dev`: the whole platform on this machine with embedded defaults. PostgreSQL and the
 * S3 objects live under .data/ and survive restarts; Ctrl-C stops every process started here.
 * `npm run dev -- --compose` runs the same services from docker-compose.yml instead.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startComposeStack } from "./stack/compose.ts";
import { type Stack, startStack } from "./stack/index.ts";
import { assertPortFree } from "./stack/ports.ts";
import { DEV_DATA_DIR, DEV_PORTS, devPort, type PortName, ROOT } from "./stack/settings.ts";
import { QUIET_ENV, startWranglerDev, type WranglerDev, writeEnvFile } from "./stack/wrangler.ts";

const DATA_DIR = DEV_DATA_DIR;
const STACK_VARS_FILE = path.join(DATA_DIR, "dev-stack.vars");
/** Your settings; BANATIE_DEV_VARS names another file (the tests give one of their own). */
const USER_VARS_FILE = path.resolve(ROOT, process.env.BANATIE_DEV_VARS || ".dev.vars");

function say(message: string) {
  console.log(`[banatie] ${message}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: QUIET_ENV, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

const USAGE = "Usage: npm run dev [-- --compose]";

/** Exits with a usage message on anything but the one option. */
function parseOptions(): { compose: boolean } {
  try {
    const { values } = parseArgs({ options: { compose: { type: "boolean", default: false } }, strict: true });
    return { compose: values.compose };
  } catch (error) {
    console.error(`[banatie] ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

async function main() {
  const { compose } = parseOptions();
  const ports = Object.fromEntries(Object.keys(DEV_PORTS).map((name) => [name, devPort(name as PortName)])) as Record<
    PortName,
    number
  >;
  // With --compose, Docker publishes the services' ports and reports its own conflicts.
  const ownPorts = (Object.keys(DEV_PORTS) as PortName[]).filter((name) => !compose || name === "api" || name === "inspector");
  for (const name of ownPorts) {
    await assertPortFree(ports[name], DEV_PORTS[name].service, DEV_PORTS[name].variable);
  }

  say(
    compose
      ? "starting docker-compose.yml's PostgreSQL, WebSocket proxy, SQL-over-HTTP server and MinIO (docker compose up -d --wait)"
      : `starting PostgreSQL, the WebSocket proxy, the SQL-over-HTTP server and the S3 server (data in ${path.relative(ROOT, DATA_DIR)}/)`,
  );
  let stack: Pick<Stack, "workerVars" | "stop"> | undefined;
  let wrangler: WranglerDev | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    await wrangler?.stop();
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
    stack = compose
      ? // The containers outlive this process, as Docker users expect: nothing to stop here.
        { ...(await startComposeStack(DATA_DIR)), stop: async () => {} }
      : await startStack({
          dataDir: DATA_DIR,
          ports: { postgres: ports.postgres, wsProxy: ports.wsProxy, s3: ports.s3, neonHttp: ports.neonHttp },
          persistent: true,
        });
    say("database migrated; building the site");
    await run("astro", ["build", "--root", "site", "--silent"]);

    await writeEnvFile(STACK_VARS_FILE, stack.workerVars);

    // Later env files win: your .dev.vars overrides what the stack provides.
    wrangler = await startWranglerDev({
      port: ports.api,
      inspectorPort: ports.inspector,
      envFiles: [STACK_VARS_FILE, ...(existsSync(USER_VARS_FILE) ? [USER_VARS_FILE] : [])],
      persistTo: path.join(DATA_DIR, "wrangler"),
      output: "inherit",
    });
    wrangler.child.once("exit", (code) => void shutdown(code ?? 1));

    const logsAndStop = compose
      ? "Logs of the services: docker compose logs. Stop with Ctrl-C (the containers keep running: docker compose stop)."
      : `Logs of PostgreSQL: ${path.relative(ROOT, DATA_DIR)}/logs/. Stop with Ctrl-C.`;
    const url = wrangler.url;
    console.log(`
  Banatie is running at ${url}

    Site              ${url}/
    Health            ${url}/health  (deep check of the database, storage and model: ${url}/api/admin/health, with a master key)
    API information   ${url}/api/info
    OpenAPI document  ${url}/api/openapi.json

  Images are generated by the offline preview model unless GEMINI_API_KEY is set in .dev.vars.
  Settings: .dev.vars (see .dev.vars.example). ${logsAndStop}
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
