import { spawn } from "node:child_process";
import path from "node:path";
import { type StackOptions, urlSigningSecret } from "./index.ts";
import { applyMigrations } from "./migrations.ts";
import { ROOT } from "./settings.ts";

/** The Docker alternative to the embedded stack; its services and credentials mirror dev/stack. */
export const COMPOSE_FILE = path.join(ROOT, "docker-compose.yml");

/**
 * Which compose service stands in for each service of the embedded stack. Typed by the stack's
 * own list, so a service added to `npm run dev` cannot be forgotten here.
 */
export const COMPOSE_SERVICES: Record<keyof StackOptions["ports"], string> = {
  postgres: "postgres",
  wsProxy: "wsproxy",
  neonHttp: "sqlhttp",
  s3: "minio",
};

/**
 * The Worker's settings against the compose services: the `.dev.vars` of the deploy guide's
 * Docker recipe (a test keeps the two equal). The database host is `postgres` because the
 * proxy, inside Docker, is what connects to it.
 */
export const COMPOSE_WORKER_VARS = {
  ENVIRONMENT: "development",
  DATABASE_URL: "postgres://banatie:banatie-local@postgres:5432/banatie",
  DATABASE_WS_PROXY: "127.0.0.1:54330",
  DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:54332/sql",
  STORAGE_DRIVER: "s3",
  S3_ENDPOINT: "http://127.0.0.1:9000",
  S3_BUCKET: "banatie",
  S3_REGION: "us-east-1",
  S3_ACCESS_KEY_ID: "banatie-local",
  S3_SECRET_ACCESS_KEY: "banatie-local-secret",
};

const WITHOUT_DOCKER = "Without Docker, `npm run dev` (no --compose) runs the same services embedded.";

/** Runs `docker compose <args>` on the project's compose file; its output goes to ours. */
function dockerCompose(args: string[], output: "inherit" | "ignore"): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["compose", "-f", COMPOSE_FILE, ...args], { cwd: ROOT, stdio: ["ignore", output, output] });
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error(`--compose needs Docker, and there is no \`docker\` command on PATH. ${WITHOUT_DOCKER}`)
          : error,
      ),
    );
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/**
 * Starts docker-compose.yml's services and waits until each is healthy (the bucket created),
 * then applies the migrations through its WebSocket proxy. The containers keep running after
 * `npm run dev` stops, as Docker users expect; `docker compose stop` stops them.
 */
export async function startComposeStack(dataDir: string): Promise<{ workerVars: Record<string, string> }> {
  if ((await dockerCompose(["version"], "ignore")) !== 0) {
    throw new Error(`--compose needs Docker Compose v2 (\`docker compose version\` failed). ${WITHOUT_DOCKER}`);
  }
  const up = await dockerCompose(["up", "-d", "--wait"], "inherit");
  if (up !== 0) throw new Error(`docker compose up -d --wait exited with ${up} (is the Docker engine running?)`);
  await applyMigrations(COMPOSE_WORKER_VARS.DATABASE_URL, COMPOSE_WORKER_VARS.DATABASE_WS_PROXY);
  return { workerVars: { ...COMPOSE_WORKER_VARS, URL_SIGNING_SECRET: await urlSigningSecret(dataDir) } };
}
