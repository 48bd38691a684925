import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { ImageModel } from "../providers/image-model";
import type { ObjectStore } from "../storage";

export interface DependencyCheck {
  status: "up" | "down";
  latencyMs: number;
  /** Why it is down, in words safe to show anyone (no hosts, no credentials). */
  error?: string;
}

export interface HealthReport {
  status: "ok" | "unavailable";
  checks: {
    database: DependencyCheck;
    storage: DependencyCheck;
    model: DependencyCheck & Pick<ImageModel, "provider" | "model">;
  };
}

async function timed(
  probe: (signal: AbortSignal) => Promise<unknown>,
  timeoutMs: number,
  downMessage: string,
): Promise<DependencyCheck> {
  const started = performance.now();
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  try {
    await Promise.race([probe(abort.signal), timeout]);
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

/**
 * The deep check: the database, object storage and the image model, probed in parallel, each
 * within `timeoutMs`. Nothing it calls costs money: the model is asked for its metadata, never
 * to generate.
 */
export async function checkHealth(
  deps: { db: Database; store: ObjectStore; imageModel: ImageModel },
  timeoutMs: number,
): Promise<HealthReport> {
  const { provider, model } = deps.imageModel;
  const [database, storage, modelCheck] = await Promise.all([
    timed(() => deps.db.execute(sql`select 1`), timeoutMs, "Database is unreachable"),
    timed(() => deps.store.head(HEALTH_PROBE_KEY), timeoutMs, "Object storage is unreachable"),
    timed((signal) => deps.imageModel.checkReachable(signal), timeoutMs, "The image model is unreachable"),
  ]);
  const allUp = [database, storage, modelCheck].every((check) => check.status === "up");
  return {
    status: allUp ? "ok" : "unavailable",
    checks: { database, storage, model: { ...modelCheck, provider, model } },
  };
}
