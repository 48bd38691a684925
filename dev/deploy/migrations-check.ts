import { messageWithoutCredentials, migrationStatus } from "../stack/migrations.ts";
import { type CheckResult, fail, pass, skip } from "./checklist.ts";

export interface MigrationsCheckOptions {
  /** The environment's database; without it the check is skipped. */
  databaseUrl?: string;
  wsProxy?: string;
  /** `npm run deploy` applies pending migrations right after the check: they are the plan, not a gap. */
  pendingAllowed?: boolean;
}

/** Whether the database has every committed migration, read without writing anything. */
export async function checkMigrations(options: MigrationsCheckOptions): Promise<CheckResult> {
  const name = "migrations";
  if (!options.databaseUrl) return skip(name, "DATABASE_URL is not set: the database was not compared");
  try {
    const status = await migrationStatus(options.databaseUrl, options.wsProxy);
    if (status.unknownApplied > 0) {
      return fail(
        name,
        `the database has ${status.unknownApplied} migration(s) newer than this checkout's drizzle/: deploy a checkout that has them`,
      );
    }
    if (status.pending.length === 0) return pass(name, `all ${status.committed} committed migrations are applied`);
    const list = status.pending.join(", ");
    return options.pendingAllowed
      ? pass(name, `${status.pending.length} to apply next: ${list}`)
      : fail(name, `${status.pending.length} not applied: ${list} (npm run deploy applies them)`);
  } catch (error) {
    // A refused WebSocket rejects with an event that says nothing: name the likely cause instead.
    const reason =
      error instanceof Error && error.message ? messageWithoutCredentials(error) : "no connection (check the host and port)";
    return fail(name, `could not read the database: ${reason}`);
  }
}
