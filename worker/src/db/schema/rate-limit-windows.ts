import { index, integer, pgTable, primaryKey, timestamp, uuid } from "drizzle-orm/pg-core";
import { apiKeys } from "./api-keys";

/** One row per key and hour: the exact quota counter, incremented atomically. */
export const rateLimitWindows = pgTable(
  "rate_limit_windows",
  {
    apiKeyId: uuid()
      .notNull()
      .references(() => apiKeys.id, { onDelete: "cascade" }),
    windowStart: timestamp({ withTimezone: true }).notNull(),
    count: integer().notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.apiKeyId, table.windowStart] }),
    // Maintenance prunes windows that are over, oldest first, across all keys.
    index("rate_limit_windows_window_start_idx").on(table.windowStart),
  ],
);
