import { neon, neonConfig } from "@neondatabase/serverless";
import { afterEach, describe, expect, it } from "vitest";
import { isConnectionFailure } from "../src/db/errors";

/**
 * How the HTTP path's failures are told apart: an answer of PostgreSQL (a SQLSTATE) is the
 * statement's, anything else is the exchange's, whose statement may or may not have run. The
 * answers below are the shapes Neon's endpoint gives besides PostgreSQL errors (a compute that
 * cannot start, throttling, a gateway timeout), sent to the real driver through its fetch hook.
 */
const saved = { fetchFunction: neonConfig.fetchFunction, fetchEndpoint: neonConfig.fetchEndpoint };

afterEach(() => {
  Object.assign(neonConfig, saved);
});

async function failureOf(answer: () => Response | Promise<Response>): Promise<unknown> {
  neonConfig.fetchEndpoint = "http://sql.invalid/sql";
  neonConfig.fetchFunction = async () => answer();
  const sql = neon("postgres://user:secret@db.invalid/banatie");
  return sql.query("select 1").then(
    () => {
      throw new Error("the statement should have failed");
    },
    (error: unknown) => error,
  );
}

describe("failures of the database's HTTP path", () => {
  it.each([
    [
      "a 400 without a SQLSTATE (the compute could not be reached)",
      () => Response.json({ message: "Couldn't connect to compute node" }, { status: 400 }),
    ],
    ["429 (throttled)", () => new Response("rate limited", { status: 429 })],
    ["408", () => new Response("timeout", { status: 408 })],
    ["503", () => new Response("unavailable", { status: 503 })],
    ["a failed fetch", () => Promise.reject(new TypeError("Network connection lost."))],
  ])("counts %s as the connection's failure", async (_name, answer) => {
    expect(isConnectionFailure(await failureOf(answer))).toBe(true);
  });

  it("keeps PostgreSQL's own errors the statement's", async () => {
    const error = await failureOf(() =>
      Response.json(
        { message: "duplicate key value violates unique constraint", code: "23505", severity: "ERROR" },
        { status: 400 },
      ),
    );
    expect(error).toMatchObject({ code: "23505" });
    expect(isConnectionFailure(error)).toBe(false);
  });
});
