import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ObservedSqlRequest } from "../../stack/neon-http.ts";
import type { ObservedStorageRequest } from "../../stack/s3-server.ts";

/**
 * What the test stack's database and storage servers were asked, for tests that count the
 * round trips of a request. Test files share the stack, so a test reads only its own traffic:
 * the requests to a database of its own, and the storage requests under its project's prefix.
 * Reached from workerd over loopback HTTP:
 *
 * `GET /?database=<name>&storagePrefix=/<bucket>/<org>/<project>/` answers
 * `{ database: ObservedSqlRequest[], storage: ObservedStorageRequest[], webSockets: number }`,
 * webSockets being the WebSocket connections opened to that database.
 */
export interface RoundTripLog {
  url: string;
  observeDatabaseRequest(request: ObservedSqlRequest): void;
  observeStorageRequest(request: ObservedStorageRequest): void;
  /** The WebSocket proxy's view: each connection's first message names its database. */
  observeDatabaseClient(connection: number, chunk: Buffer): void;
  /**
   * The answers of the round-trip database are held a while, so that parallel requests overlap
   * for certain; a variant's record much longer, so that a response that did not wait for it
   * shows.
   */
  latencyMs(database: string, queries: string[]): number;
  stop(): Promise<void>;
}

/** The database whose traffic tests count (worker/test/round-trips.test.ts), and its latency. */
export const ROUND_TRIP_DATABASE = "round_trips";
const ROUND_TRIP_LATENCY_MS = 40;
const VARIANT_RECORD_LATENCY_MS = 1500;

/** The `database` parameter of a PostgreSQL startup message. */
function startupDatabase(chunk: Buffer): string | undefined {
  return /\0database\0([^\0]*)\0/.exec(chunk.toString("latin1"))?.[1];
}

export async function startRoundTripLog(): Promise<RoundTripLog> {
  const database: ObservedSqlRequest[] = [];
  const storage: ObservedStorageRequest[] = [];
  const socketDatabases = new Map<number, string>();

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://log");
    const name = url.searchParams.get("database") ?? "";
    const prefix = url.searchParams.get("storagePrefix") ?? "";
    const body = {
      database: database.filter((entry) => entry.database === name),
      storage: prefix ? storage.filter((entry) => entry.path.startsWith(prefix)) : [],
      webSockets: [...socketDatabases.values()].filter((entry) => entry === name).length,
    };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    observeDatabaseRequest: (request) => database.push(request),
    observeStorageRequest: (request) => storage.push(request),
    observeDatabaseClient(connection, chunk) {
      if (socketDatabases.has(connection)) return;
      socketDatabases.set(connection, startupDatabase(chunk) ?? "");
    },
    latencyMs(name, queries) {
      if (name !== ROUND_TRIP_DATABASE) return 0;
      return queries.some((query) => /insert into "image_variants"/.test(query))
        ? VARIANT_RECORD_LATENCY_MS
        : ROUND_TRIP_LATENCY_MS;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
