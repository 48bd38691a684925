import { createDatabase, createSessionDatabase, type Database, type SessionDatabase } from "../../src/db/client";
import { testEnv } from "./app";

/**
 * The PostgreSQL and S3 server of dev/test/support/pausable-stack.ts: the global setup's control
 * endpoint starts them on first use and freezes or wakes them on demand.
 */
export type PausableTarget = "postgres" | "s3";

async function control(path: string): Promise<Response> {
  const response = await fetch(`${testEnv.PAUSABLE_STACK_URL}${path}`, { method: "POST" });
  if (!response.ok) throw new Error(`pausable stack control ${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** The Worker variables that point at the pausable stack (starting it the first time). */
export async function pausableStackEnv(): Promise<Record<string, string>> {
  return (await (await control("/stack")).json()) as Record<string, string>;
}

export async function pause(target: PausableTarget): Promise<void> {
  await (await control(`/pause?target=${target}`)).body?.cancel();
}

export async function resume(target: PausableTarget): Promise<void> {
  await (await control(`/resume?target=${target}`)).body?.cancel();
}

/** Runs `use` with a client of the pausable stack's database (only while it is not paused). */
export async function withPausableDb<T>(env: Record<string, string>, use: (db: Database) => Promise<T>): Promise<T> {
  return use(createDatabase({ databaseUrl: env.DATABASE_URL ?? "", databaseHttpEndpoint: env.DATABASE_HTTP_ENDPOINT }));
}

/** The pausable stack's database over a WebSocket session, for interactive transactions. */
export function pausableSession(env: Record<string, string>): { db: SessionDatabase; close: () => Promise<void> } {
  return createSessionDatabase({ databaseUrl: env.DATABASE_URL ?? "", databaseWsProxy: env.DATABASE_WS_PROXY });
}
