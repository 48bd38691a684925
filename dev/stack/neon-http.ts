import http from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint (`https://<host>/sql`), so the driver's
 * `neon()` path, and drizzle's `neon-http` on it, reach a plain PostgreSQL as they reach Neon:
 *
 * - `POST /sql` with `{ query, params }`, or `{ queries: [...] }` run as one transaction;
 * - the target database in the `Neon-Connection-String` header, so one server serves any
 *   database (and stack) it is allowed to reach;
 * - rows as arrays of PostgreSQL's text values (the driver always asks for `Neon-Raw-Text-Output`
 *   and `Neon-Array-Mode`, and parses each value by its field's `dataTypeID`);
 * - PostgreSQL errors as 400 with their fields (`code`, `detail`, `constraint`, ...), and a
 *   database it cannot reach as 500, as Neon's proxy answers.
 *
 * Like Neon's proxy it keeps a pool of connections per connection string, so a request costs one
 * HTTP exchange and no connection setup.
 */
export interface NeonHttpServer {
  port: number;
  /** What the driver's `fetchEndpoint` should be set to. */
  endpoint: string;
  stop(): Promise<void>;
}

/** One request as it was served, for counting round trips. */
export interface ObservedSqlRequest {
  /** The database named by the connection string. */
  database: string;
  /** The SQL of each statement (never its parameters). */
  queries: string[];
  /** Epoch milliseconds (fractional), comparable across processes of this machine. */
  startedAt: number;
  endedAt: number;
  /** The HTTP status answered. */
  status: number;
}

export interface NeonHttpOptions {
  port: number;
  /** The interface to listen on: loopback unless a container publishes the port. */
  host?: string;
  /** Which PostgreSQL servers a connection string may name. */
  allowAddress: (host: string, port: number) => boolean;
  /** Sees every request once it is answered (tests and benchmarks count round trips with it). */
  observe?: (request: ObservedSqlRequest) => void;
  /**
   * Milliseconds to hold each answer for a database, as a distant endpoint would: requests sent
   * side by side then overlap for certain, which is how tests tell parallel from sequential.
   */
  latencyMs?: (database: string, queries: string[]) => number;
}

interface Statement {
  query: string;
  params?: unknown[];
  arrayMode?: boolean;
}

interface StatementResult {
  command: string;
  rowCount: number | null;
  rows: unknown[];
  fields: pg.FieldDef[];
  rowAsArray: boolean;
}

/** The isolation levels the driver's `Neon-Batch-Isolation-Level` header names. */
const ISOLATION_LEVELS: Record<string, string> = {
  Serializable: "serializable",
  RepeatableRead: "repeatable read",
  ReadCommitted: "read committed",
  ReadUncommitted: "read uncommitted",
};

/** PostgreSQL's error fields the driver copies onto its NeonDbError. */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** Every value as PostgreSQL's text, as Neon's raw text output gives it. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Connecting to a server that accepted the socket and went silent must end some time. */
const CONNECT_TIMEOUT_MS = 10_000;

class RequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function header(request: http.IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(400, "request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RequestError(400, "request body is not JSON");
  }
}

function statementsOf(body: unknown): { batch: boolean; statements: Statement[] } {
  const isStatement = (value: unknown): value is Statement =>
    typeof value === "object" && value !== null && typeof (value as Statement).query === "string";
  if (isStatement(body)) return { batch: false, statements: [body] };
  const queries = (body as { queries?: unknown } | null)?.queries;
  if (Array.isArray(queries) && queries.every(isStatement)) return { batch: true, statements: queries };
  throw new RequestError(400, "expected { query, params } or { queries: [...] }");
}

/** `begin` with the transaction options of the batch headers. */
function beginStatement(request: http.IncomingMessage): string {
  const parts = ["begin"];
  const level = header(request, "Neon-Batch-Isolation-Level");
  if (level !== undefined) {
    const sqlLevel = ISOLATION_LEVELS[level];
    if (!sqlLevel) throw new RequestError(400, "invalid isolation level");
    parts.push(`isolation level ${sqlLevel}`);
  }
  if (header(request, "Neon-Batch-Read-Only") === "true") parts.push("read only");
  if (header(request, "Neon-Batch-Deferrable") === "true") parts.push("deferrable");
  return parts.join(" ");
}

async function run(client: pg.ClientBase, statement: Statement, defaultArrayMode: boolean): Promise<StatementResult> {
  const arrayMode = statement.arrayMode ?? defaultArrayMode;
  // The extended protocol, as Neon uses: one statement per query, parameters never spliced in.
  const result = await client.query({
    text: statement.query,
    values: statement.params ?? [],
    rowMode: "array",
    types: RAW_TEXT,
    queryMode: "extended",
  } as pg.QueryArrayConfig);
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(result.fields.map((field, index) => [field.name, row[index]])));
  return { command: result.command, rowCount: result.rowCount, rows, fields: result.fields, rowAsArray: arrayMode };
}

/** A PostgreSQL error (it has a SQLSTATE), as opposed to a connection that failed. */
function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

function errorBody(error: unknown): Record<string, unknown> {
  if (!isDatabaseError(error)) return { message: error instanceof Error ? error.message : String(error) };
  const body: Record<string, unknown> = { message: error.message };
  for (const field of ERROR_FIELDS) body[field] = error[field];
  return body;
}

export async function startNeonHttpServer(options: NeonHttpOptions): Promise<NeonHttpServer> {
  const pools = new Map<string, pg.Pool>();

  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({ connectionString, max: 20, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      // An idle connection that drops is reported here; the next query simply opens another.
      pool.on("error", () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const target = (request: http.IncomingMessage): { connectionString: string; database: string } => {
    const connectionString = header(request, "Neon-Connection-String");
    if (!connectionString || !URL.canParse(connectionString)) {
      throw new RequestError(400, "missing or invalid Neon-Connection-String header");
    }
    const url = new URL(connectionString);
    if (!/^postgres(ql)?:$/.test(url.protocol) || !options.allowAddress(url.hostname, Number(url.port || 5432))) {
      throw new RequestError(400, `address ${url.hostname}:${url.port} not allowed`);
    }
    return { connectionString, database: decodeURIComponent(url.pathname.slice(1)) };
  };

  const execute = async (request: http.IncomingMessage, pool: pg.Pool, body: unknown): Promise<unknown> => {
    const { batch, statements } = statementsOf(body);
    const arrayMode = header(request, "Neon-Array-Mode") === "true";
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      if (!batch) return await run(client, statements[0] as Statement, arrayMode);
      await client.query(beginStatement(request));
      try {
        const results: StatementResult[] = [];
        for (const statement of statements) results.push(await run(client, statement, arrayMode));
        await client.query("commit");
        return { results };
      } catch (error) {
        await client.query("rollback").catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } catch (error) {
      // A connection whose statement failed without a SQLSTATE is not trusted again.
      if (!isDatabaseError(error)) broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const server = http.createServer(async (request, response) => {
    const startedAt = performance.timeOrigin + performance.now();
    let status = 200;
    let answer: unknown;
    let database = "";
    let queries: string[] = [];
    try {
      if (request.method !== "POST" || new URL(request.url ?? "/", "http://local").pathname !== "/sql") {
        throw new RequestError(404, "POST /sql only");
      }
      const destination = target(request);
      database = destination.database;
      const body = await readJson(request);
      queries = statementsOf(body).statements.map((statement) => statement.query);
      const latency = options.latencyMs?.(database, queries) ?? 0;
      [answer] = await Promise.all([
        execute(request, poolFor(destination.connectionString), body),
        new Promise((resolve) => setTimeout(resolve, latency)),
      ]);
    } catch (error) {
      status = error instanceof RequestError ? error.status : isDatabaseError(error) ? 400 : 500;
      answer = errorBody(error);
    }
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(answer));
    options.observe?.({ database, queries, startedAt, endedAt: performance.timeOrigin + performance.now(), status });
  });
  // The driver's fetches reuse connections; a stopped server must not wait for them to idle out.
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/sql`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end().catch(() => {})));
    },
  };
}
