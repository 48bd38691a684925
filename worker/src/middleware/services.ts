import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { createDatabase } from "../db/client";
import type { HonoEnv } from "../lib/types";
import { createObjectStore } from "../storage";

/**
 * Validates the configuration and builds the database and storage clients for this request.
 * A bad configuration fails here, so every request answers with the same clear 500 problem.
 */
export const services = createMiddleware<HonoEnv>(async (c, next) => {
  const config = loadConfig(c.env);
  const database = createDatabase(config);
  c.set("config", config);
  c.set("services", { db: database.db, store: createObjectStore(config.storage) });
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(database.close().catch(() => {}));
  }
});
