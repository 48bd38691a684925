import { type Client, neon, neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle as drizzleHttp, type NeonHttpDatabase } from "drizzle-orm/neon-http";
import { drizzle as drizzleSession } from "drizzle-orm/neon-serverless";
import { DATABASE_CLOSE_TIMEOUT_MS, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS } from "../domain/limits";
import { isConnectionFailure } from "./errors";
import { neonHttpSettings, neonSocketSettings } from "./neon-local";
import * as schema from "./schema";

export interface DatabaseSettings {
  databaseUrl: string;
  databaseWsProxy?: string;
  databaseHttpEndpoint?: string;
}

/**
 * The database of almost every request: each statement, or each `db.batch([...])` (one
 * transaction), is one HTTPS exchange with Neon's SQL-over-HTTP endpoint, which keeps the
 * connections to PostgreSQL itself: no connection setup on the request's path.
 */
export type Database = NeonHttpDatabase<typeof schema>;

/** A WebSocket session: for the few interactive transactions (read, decide, write). */
export type SessionDatabase = ReturnType<typeof drizzleSession<typeof schema>>;

/**
 * A drizzle client over the driver's HTTP path. It holds no connection: building it costs
 * nothing, and requests that never query pay nothing. Every exchange has a deadline
 * (DATABASE_STATEMENT_TIMEOUT_MS, connection included), after which it fails as a connection
 * failure (503): a statement that got no answer may still be carried out by a server that
 * wakes, exactly as on a socket (see storage/abandoned-write.ts).
 */
export function createDatabase(settings: DatabaseSettings): Database {
  // neonConfig is module-global; the settings are per deployment, so setting them again is harmless.
  Object.assign(neonConfig, neonHttpSettings(settings.databaseHttpEndpoint, DATABASE_STATEMENT_TIMEOUT_MS));
  return drizzleHttp({ client: neon(settings.databaseUrl), schema, casing: "snake_case" });
}

/**
 * A drizzle client over a Neon WebSocket pool, for interactive transactions. Workers forbid
 * sharing I/O objects across requests, so each request builds its own and closes it when the
 * response is done; the pool connects on first query (WebSocket upgrade and PostgreSQL startup:
 * round trips the HTTP path does not pay).
 *
 * Every call has a deadline: the driver (pg's Pool) gives up on a connection that is not ready
 * within DATABASE_CONNECT_TIMEOUT_MS and on a statement unanswered within
 * DATABASE_STATEMENT_TIMEOUT_MS, so the request fails fast (503) instead of hanging on a server
 * that accepted the connection and went silent. Both deadlines are the client's only: a paused
 * server still carries out a statement it received once it wakes (see storage/abandoned-write.ts
 * for the object of such a row). No server-side `statement_timeout` is sent either: it would not
 * help a paused server, whose clock does not run for the statement until it wakes, and Neon's
 * pooled endpoints (PgBouncer) refuse connections that carry startup parameters they do not know.
 */
export function createSessionDatabase(settings: DatabaseSettings): { db: SessionDatabase; close: () => Promise<void> } {
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
  // Every connection the pool opens (the event passes the Client itself).
  pool.on("connect", closeOnConnectionFailure);
  const db = drizzleSession({ client: pool, schema, casing: "snake_case" });
  return { db, close: () => closeWithin(pool, DATABASE_CLOSE_TIMEOUT_MS) };
}

type QueryCallback = (error: unknown, result?: unknown) => void;

/**
 * Closes a connection as soon as one of its statements times out. pg answers the caller but
 * keeps the connection open, still waiting for the late reply, and a transaction's connection
 * goes back to the pool as if healthy (drizzle releases it without the error): the next
 * statement of the request (a deferred audit write) would then queue behind the lost one and run
 * inside the abandoned transaction, to be rolled back unseen. `end()` on a connection with a
 * statement in flight destroys its socket, so the rollback fails at once and the pool drops it.
 */
function closeOnConnectionFailure(client: Client): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const closeIfBroken = (error: unknown) => {
    if (isConnectionFailure(error)) client.end().catch(() => {});
  };
  // pg calls back (Pool.query) or returns a promise (drizzle, on a connection of its own).
  client.query = ((...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback === "function") {
      args[args.length - 1] = (error: unknown, result?: unknown) => {
        closeIfBroken(error);
        (callback as QueryCallback)(error, result);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.catch(closeIfBroken);
    return result;
  }) as Client["query"];
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
