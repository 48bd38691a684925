/**
 * `npm run db:migrate`: applies drizzle/ to DATABASE_URL (Neon or any PostgreSQL), or, when
 * DATABASE_URL is unset, to the local stack's database, starting its PostgreSQL if needed.
 */
import path from "node:path";
import { DATABASE } from "./stack/index.ts";
import { applyMigrations, ensureDatabase, messageWithoutCredentials } from "./stack/migrations.ts";
import { assertPortFree } from "./stack/ports.ts";
import { localPostgresUrl, startPostgres } from "./stack/postgres.ts";
import { DEV_DATA_DIR, DEV_PORTS, devPort } from "./stack/settings.ts";

async function migrateLocalStack() {
  const port = devPort("postgres");
  const running = await assertPortFree(port, DEV_PORTS.postgres.service, DEV_PORTS.postgres.variable).then(
    () => false,
    () => true,
  );
  // `npm run dev` is running: its PostgreSQL holds the port, so migrate it in place.
  if (running) return applyMigrations(localPostgresUrl(port, DATABASE));
  const postgres = await startPostgres({
    dataDir: path.join(DEV_DATA_DIR, "postgres"),
    port,
    database: DATABASE,
    persistent: true,
    logFile: path.join(DEV_DATA_DIR, "logs", "postgres.log"),
  });
  try {
    await ensureDatabase(postgres.url);
    await applyMigrations(postgres.url);
  } finally {
    await postgres.stop();
  }
}

const databaseUrl = process.env.DATABASE_URL;
try {
  if (databaseUrl) await applyMigrations(databaseUrl, process.env.DATABASE_WS_PROXY || undefined);
  else await migrateLocalStack();
  console.log("[banatie] migrations applied");
} catch (error) {
  // The message may quote the connection string's host but never its password.
  console.error(`[banatie] migration failed: ${messageWithoutCredentials(error)}`);
  process.exit(1);
}
