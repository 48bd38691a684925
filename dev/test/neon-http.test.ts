import path from "node:path";
import { type NeonDbError, type NeonQueryFunction, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NeonHttpServer, type ObservedSqlRequest, startNeonHttpServer } from "../stack/neon-http.ts";
import { freePort } from "../stack/ports.ts";
import { type LocalPostgres, localPostgresUrl, startPostgres } from "../stack/postgres.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * The local SQL-over-HTTP server against the real driver (@neondatabase/serverless's `neon()`),
 * as the Worker uses it: what the driver sends, it answers as Neon's proxy does.
 */

let dir: Awaited<ReturnType<typeof tempDir>>;
let postgres: LocalPostgres;
let server: NeonHttpServer;
const observed: ObservedSqlRequest[] = [];
let sql: NeonQueryFunction<false, false>;

beforeAll(async () => {
  dir = await tempDir("neon-http");
  postgres = await startPostgres({
    dataDir: path.join(dir.path, "postgres"),
    port: await freePort(),
    database: "postgres",
    persistent: false,
  });
  server = await startNeonHttpServer({
    port: 0,
    allowAddress: (host) => host === "127.0.0.1",
    observe: (request) => observed.push(request),
  });
  neonConfig.fetchEndpoint = server.endpoint;
  sql = neon(localPostgresUrl(postgres.port, "postgres"));
  await sql`create table notes (id serial primary key, title text not null unique, created_at timestamptz not null default now())`;
});

afterAll(async () => {
  await server?.stop();
  await postgres?.stop();
  await dir?.remove();
});

async function failure(run: () => Promise<unknown>): Promise<NeonDbError> {
  try {
    await run();
  } catch (error) {
    return error as NeonDbError;
  }
  throw new Error("expected the statement to fail");
}

describe("the local Neon SQL-over-HTTP server", () => {
  it("runs a statement with parameters and answers values the driver parses by type", async () => {
    const [row] = await sql.query(
      "select $1::int + 1 as n, $2::text as t, $3::jsonb as j, $4::boolean as b, $5::text as missing, $6::bytea as bytes",
      [41, "hello", JSON.stringify({ a: [1, 2] }), true, null, new Uint8Array([1, 2, 255])],
    );

    expect(row).toEqual({ n: 42, t: "hello", j: { a: [1, 2] }, b: true, missing: null, bytes: expect.anything() });
    expect(Array.from((row?.bytes ?? []) as Uint8Array)).toEqual([1, 2, 255]);
  });

  it("answers the command, row count and fields of full results", async () => {
    const result = await sql.query("insert into notes (title) values ($1), ($2) returning id", ["a", "b"], {
      fullResults: true,
    });

    expect(result.command).toBe("INSERT");
    expect(result.rowCount).toBe(2);
    expect(result.fields.map((field) => [field.name, field.dataTypeID])).toEqual([["id", 23]]);
  });

  it("runs a batch as one transaction with its isolation level, in one request", async () => {
    const before = observed.length;
    const [level, inserted, count] = await sql.transaction(
      (tx) => [
        tx`select current_setting('transaction_isolation') as level`,
        tx`insert into notes (title) values ('in batch') returning title`,
        tx`select count(*)::int as n from notes where title = 'in batch'`,
      ],
      { isolationLevel: "Serializable" },
    );

    expect(level).toEqual([{ level: "serializable" }]);
    expect(inserted).toEqual([{ title: "in batch" }]);
    expect(count).toEqual([{ n: 1 }]);
    expect(observed.slice(before)).toEqual([
      expect.objectContaining({
        database: "postgres",
        queries: [expect.any(String), expect.any(String), expect.any(String)],
        status: 200,
      }),
    ]);
  });

  it("rolls a batch back when one of its statements fails", async () => {
    const error = await failure(() =>
      sql.transaction((tx) => [tx`insert into notes (title) values ('rolled back')`, tx`insert into notes (title) values ('a')`]),
    );

    expect(error.code).toBe("23505");
    expect(await sql`select count(*)::int as n from notes where title = 'rolled back'`).toEqual([{ n: 0 }]);
  });

  it("answers a PostgreSQL error with its fields, as the driver expects them", async () => {
    const error = await failure(() => sql`insert into notes (title) values ('a')`);

    expect(error.name).toBe("NeonDbError");
    expect(error.code).toBe("23505");
    expect(error.constraint).toBe("notes_title_key");
    expect(error.table).toBe("notes");
    expect(error.severity).toBe("ERROR");
  });

  it("keeps its connections open across requests: no connection setup per request", async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const [row] = await sql`select pg_backend_pid() as pid`;
      pids.add(row?.pid as number);
    }

    expect(pids.size).toBe(1);
  });

  it("answers 500 when the database cannot be reached, which the driver reports as a server error", async () => {
    const unreachable = neon(localPostgresUrl(await freePort(), "postgres"));
    const error = await failure(() => unreachable`select 1`);

    expect(error.message).toMatch(/^Server error \(HTTP status 500\)/);
    expect(error.code).toBeUndefined();
  });

  it("refuses a connection string naming a server it may not reach", async () => {
    const elsewhere = neon("postgres://user:secret@192.0.2.1:5432/postgres");
    const error = await failure(() => elsewhere`select 1`);

    expect(error.message).toMatch(/not allowed/);
  });
});
