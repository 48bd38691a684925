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

/**
 * A key no image can have (image keys have four parts): its HEAD answers "no such object" when
 * storage is up and the credentials are good, at the price of one object lookup, not a LIST.
 */
export const HEALTH_PROBE_KEY = "health-probe";

/** How long one isolate reuses its last report, so a flood of /health costs its dependencies nothing. */
export const HEALTH_REPORT_TTL_MS = 5_000;

/** Probes the database and object storage in parallel, each within `timeoutMs`. */
export async function checkHealth(deps: { db: Database; store: ObjectStore }, timeoutMs: number): Promise<HealthReport> {
  const [database, storage] = await Promise.all([
    timed(() => deps.db.execute(sql`select 1`), timeoutMs, "Database is unreachable"),
    timed(() => deps.store.head(HEALTH_PROBE_KEY), timeoutMs, "Object storage is unreachable"),
  ]);
  const allUp = database.status === "up" && storage.status === "up";
  return { status: allUp ? "ok" : "unavailable", checks: { database, storage } };
}

const recentReports = new WeakMap<object, { at: number; report: HealthReport }>();

/**
 * `checkHealth`, reused for HEALTH_REPORT_TTL_MS per deployment (`scope`: the Worker's env, stable
 * for an isolate's life). Only settled reports are kept: a pending promise cannot be shared
 * across requests in Workers.
 */
export async function recentHealth(
  scope: object,
  deps: { db: Database; store: ObjectStore },
  timeoutMs: number,
): Promise<HealthReport> {
  const recent = recentReports.get(scope);
  if (recent && Date.now() - recent.at < HEALTH_REPORT_TTL_MS) return recent.report;
  const report = await checkHealth(deps, timeoutMs);
  recentReports.set(scope, { at: Date.now(), report });
  return report;
}
