import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client, neonConfig, Pool } from "@neondatabase/serverless";
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
 * Runs `use` with the driver the Worker uses set up for `databaseUrl`. For a plain PostgreSQL
 * without a proxy (`wsProxy` unset), a private proxy is started for the duration, allowed to
 * reach that one host only.
 */
async function withNeonDriver<T>(databaseUrl: string, wsProxy: string | undefined, use: () => Promise<T>): Promise<T> {
  let proxy: Awaited<ReturnType<typeof startWsProxy>> | undefined;
  if (!wsProxy && !isNeonHost(databaseUrl)) {
    const target = new URL(databaseUrl);
    const targetPort = Number(target.port || 5432);
    proxy = await startWsProxy({ port: 0, allowAddress: (host, port) => host === target.hostname && port === targetPort });
    wsProxy = `127.0.0.1:${proxy.port}`;
  }
  Object.assign(neonConfig, neonSocketSettings(wsProxy));
  try {
    return await use();
  } finally {
    await proxy?.stop();
  }
}

/** Runs `use` with a one-connection pool of the driver the Worker uses (see withNeonDriver). */
export async function withNeonPool<T>(
  databaseUrl: string,
  wsProxy: string | undefined,
  use: (pool: Pool) => Promise<T>,
): Promise<T> {
  return withNeonDriver(databaseUrl, wsProxy, async () => {
    const pool = new Pool({ connectionString: databaseUrl, max: 1 });
    // A socket closed after end() (the proxy stopping) is reported as a pool 'error' event, which
    // would crash the process if nobody listened; query failures still reject their promises.
    pool.on("error", () => {});
    try {
      return await use(pool);
    } finally {
      await pool.end();
    }
  });
}

/**
 * Runs `use` with one connection of the driver the Worker uses (see withNeonDriver). Unlike a
 * pool's, a failed connection rejects and nothing more: no 'error' event is left unheard to end
 * the process, so a caller can report the failure and go on.
 */
export async function withNeonClient<T>(
  databaseUrl: string,
  wsProxy: string | undefined,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  return withNeonDriver(databaseUrl, wsProxy, async () => {
    const client = new Client({ connectionString: databaseUrl });
    client.on("error", () => {});
    // end() on a connection that already ended waits forever.
    let ended = false;
    client.once("end", () => (ended = true));
    try {
      await client.connect();
      return await use(client);
    } finally {
      if (!ended) await client.end().catch(() => {});
    }
  });
}

/** An error's message without the password a connection string in it may carry. */
export function messageWithoutCredentials(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\/\/[^@\s]*@/g, "//***@");
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

/** Applies the committed migrations in `drizzle/` (or another folder); already applied ones are skipped. */
export async function applyMigrations(
  databaseUrl: string,
  wsProxy?: string,
  migrationsFolder = MIGRATIONS_FOLDER,
): Promise<void> {
  await withNeonPool(databaseUrl, wsProxy, (pool) => migrate(drizzle({ client: pool }), { migrationsFolder }));
}

/** One committed migration, as drizzle-kit lists it in drizzle/meta/_journal.json. */
export interface JournalEntry {
  tag: string;
  /** When it was generated; drizzle records it as `created_at` once applied. */
  when: number;
}

export async function readJournal(migrationsFolder = MIGRATIONS_FOLDER): Promise<JournalEntry[]> {
  const journal = JSON.parse(await readFile(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/** How the database's applied migrations compare with the committed ones. */
export interface MigrationStatus {
  committed: number;
  /** Committed migrations the database has not applied, oldest first. */
  pending: string[];
  /** Applied migrations newer than every committed one: the database is ahead of this checkout. */
  unknownApplied: number;
}

/**
 * Compares drizzle's record of applied migrations with the journal, in a read-only transaction.
 * A migration counts as applied by drizzle's own rule: generated no later than the newest one
 * the database recorded.
 */
export async function migrationStatus(databaseUrl: string, wsProxy?: string): Promise<MigrationStatus> {
  const journal = await readJournal();
  const applied = await withNeonClient(databaseUrl, wsProxy, async (client) => {
    await client.query("begin read only");
    try {
      const table = await client.query("select to_regclass('drizzle.__drizzle_migrations') as name");
      if (!table.rows[0]?.name) return [];
      const rows = await client.query("select created_at from drizzle.__drizzle_migrations order by created_at");
      return rows.rows.map((row: { created_at: string | number }) => Number(row.created_at));
    } finally {
      await client.query("rollback");
    }
  });
  const newestApplied = Math.max(0, ...applied);
  const newestCommitted = Math.max(0, ...journal.map((entry) => entry.when));
  return {
    committed: journal.length,
    pending: journal.filter((entry) => entry.when > newestApplied).map((entry) => entry.tag),
    unknownApplied: applied.filter((when) => when > newestCommitted).length,
  };
}
