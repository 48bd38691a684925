import { fileURLToPath } from "node:url";
import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import { neonSocketSettings } from "../../worker/src/db/neon-local.ts";
import { startWsProxy } from "./ws-proxy.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Neon answers WebSockets itself; every other PostgreSQL needs a proxy in front. */
export function isNeonHost(databaseUrl: string): boolean {
  return /\.neon\.(tech|build)$/.test(new URL(databaseUrl).hostname);
}

/**
 * Runs `use` with a one-connection pool of the driver the Worker uses. For a plain PostgreSQL
 * without a proxy (`wsProxy` unset), a private proxy is started for the duration, allowed to
 * reach that one host only.
 */
export async function withNeonPool<T>(
  databaseUrl: string,
  wsProxy: string | undefined,
  use: (pool: Pool) => Promise<T>,
): Promise<T> {
  let proxy: Awaited<ReturnType<typeof startWsProxy>> | undefined;
  if (!wsProxy && !isNeonHost(databaseUrl)) {
    const target = new URL(databaseUrl);
    const targetPort = Number(target.port || 5432);
    proxy = await startWsProxy({ port: 0, allowAddress: (host, port) => host === target.hostname && port === targetPort });
    wsProxy = `127.0.0.1:${proxy.port}`;
  }
  Object.assign(neonConfig, neonSocketSettings(wsProxy));
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  // A socket closed after end() (the proxy stopping) is reported as a pool 'error' event, which
  // would crash the process if nobody listened; query failures still reject their promises.
  pool.on("error", () => {});
  try {
    return await use(pool);
  } finally {
    await pool.end();
    await proxy?.stop();
  }
}

/** Creates the URL's database if the server does not have it yet (a new local cluster). */
export async function ensureDatabase(databaseUrl: string, wsProxy?: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = "/postgres";
  await withNeonPool(maintenance.toString(), wsProxy, async (pool) => {
    const existing = await pool.query("select 1 from pg_database where datname = $1", [name]);
    if (existing.rowCount === 0) await pool.query(`create database "${name.replaceAll('"', '""')}"`);
  });
}

/** Applies the committed migrations in `drizzle/`; already applied ones are skipped. */
export async function applyMigrations(databaseUrl: string, wsProxy?: string): Promise<void> {
  await withNeonPool(databaseUrl, wsProxy, (pool) => migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS_FOLDER }));
}
