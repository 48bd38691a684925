import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { ObjectStore } from "../storage";

export interface DependencyCheck {
  status: "up" | "down";
  latencyMs: number;
  /** Why it is down, in words safe to show anyone (no hosts, no credentials). */
  error?: string;
}

export interface HealthReport {
  status: "ok" | "unavailable";
  checks: { database: DependencyCheck; storage: DependencyCheck };
}

async function timed(probe: () => Promise<unknown>, timeoutMs: number, downMessage: string): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { status: "up", latencyMs: elapsed(started) };
  } catch (error) {
    const reason = error instanceof Error && error.message.startsWith("no answer") ? `: ${error.message}` : "";
    return { status: "down", latencyMs: elapsed(started), error: `${downMessage}${reason}` };
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

// Workers freeze timers during I/O-free code, so these are coarse; they still tell up from slow.
function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** Probes the database and object storage in parallel, each within `timeoutMs`. */
export async function checkHealth(deps: { db: Database; store: ObjectStore }, timeoutMs: number): Promise<HealthReport> {
  const [database, storage] = await Promise.all([
    timed(() => deps.db.execute(sql`select 1`), timeoutMs, "Database is unreachable"),
    timed(() => deps.store.list({ limit: 1 }), timeoutMs, "Object storage is unreachable"),
  ]);
  const allUp = database.status === "up" && storage.status === "up";
  return { status: allUp ? "ok" : "unavailable", checks: { database, storage } };
}
