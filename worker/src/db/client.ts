import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { neonSocketSettings } from "./neon-local";
import * as schema from "./schema";

export interface DatabaseSettings {
  databaseUrl: string;
  databaseWsProxy?: string;
}

export type Database = ReturnType<typeof drizzle<typeof schema>>;

/**
 * A drizzle client over a Neon WebSocket pool. Workers forbid sharing I/O objects across
 * requests, so each request builds its own and closes it when the response is done; the pool
 * connects on first query, so requests that never touch the database pay nothing.
 */
export function createDatabase(settings: DatabaseSettings): { db: Database; close: () => Promise<void> } {
  // neonConfig is module-global; the settings are per deployment, so setting them again is harmless.
  Object.assign(neonConfig, neonSocketSettings(settings.databaseWsProxy));
  const pool = new Pool({ connectionString: settings.databaseUrl, max: 4 });
  // Connection failures reach the caller through the failed query; an unheard 'error' event
  // would otherwise be thrown again as an uncaught exception.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema, casing: "snake_case" });
  return { db, close: () => pool.end() };
}
