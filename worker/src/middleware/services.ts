import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { createDatabase } from "../db/client";
import type { HonoEnv } from "../lib/types";
import { createModels } from "../models";
import { bindingRateLimiter, unlimited } from "../rate-limit/rate-limiter";
import { createObjectStore } from "../storage";

/**
 * Validates the configuration and builds the database and storage clients for this request.
 * A bad configuration fails here, so every request answers with the same clear 500 problem.
 */
export const services = createMiddleware<HonoEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const database = createDatabase(config);
  const deferred: Promise<unknown>[] = [];
  const env = c.env as Partial<Env>;
  c.set("config", config);
  c.set("services", {
    db: database.db,
    store: createObjectStore(config.storage),
    ...createModels(config.gemini),
    burstLimiter: env.KEY_BURST_LIMITER ? bindingRateLimiter(env.KEY_BURST_LIMITER) : unlimited,
    authFailureLimiter: env.AUTH_FAILURE_LIMITER ? bindingRateLimiter(env.AUTH_FAILURE_LIMITER) : unlimited,
    defer(task) {
      deferred.push(
        task().catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          console.error(
            JSON.stringify({ level: "error", requestId: c.get("requestId"), message: `background task failed: ${message}` }),
          );
        }),
      );
    },
  });
  try {
    await next();
  } finally {
    // Background work still needs the pool; close it only when that work is done.
    c.executionCtx.waitUntil(Promise.allSettled(deferred).then(() => database.close().catch(() => {})));
  }
});
