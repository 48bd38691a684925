import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { DATABASE_CLOSE_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS } from "../domain/limits";
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
 *
 * Every call has a deadline: the driver (pg's Pool) gives up on a connection that is not ready
 * within DATABASE_CONNECT_TIMEOUT_MS and on a statement unanswered within
 * DATABASE_STATEMENT_TIMEOUT_MS, closing the socket, so the request fails fast (503) instead of
 * hanging on a server that accepted the connection and went silent.
 */
export function createDatabase(settings: DatabaseSettings): { db: Database; close: () => Promise<void> } {
  // neonConfig is module-global; the settings are per deployment, so setting them again is harmless.
  Object.assign(neonConfig, neonSocketSettings(settings.databaseWsProxy));
  const pool = new Pool({
    connectionString: settings.databaseUrl,
    max: 4,
    connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    query_timeout: DATABASE_STATEMENT_TIMEOUT_MS,
  });
  // Connection failures reach the caller through the failed query; an unheard 'error' event
  // would otherwise be thrown again as an uncaught exception.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema, casing: "snake_case" });
  return { db, close: () => closeWithin(pool, DATABASE_CLOSE_TIMEOUT_MS) };
}

/**
 * Ends the pool, waiting at most `ms`: a graceful end waits for each connection's goodbye,
 * which a silent server never sends, and the request's background work must not wait on it.
 */
async function closeWithin(pool: Pool, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([pool.end(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Errors the driver raises when the connection, not the statement, failed: it could not
 * connect in time, the connection dropped, or a statement got no answer in time. They carry no
 * SQLSTATE; transactions surface them unwrapped, when their connection cannot be opened.
 */
const CONNECTION_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error)/;

export function isConnectionFailure(error: unknown): boolean {
  return error instanceof Error && CONNECTION_FAILURE.test(error.message);
}
