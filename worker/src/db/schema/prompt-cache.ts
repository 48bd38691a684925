import { integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";

/** Enhancements keyed by SHA-256 of (normalized prompt, template, enhancer model). */
export const promptCache = pgTable("prompt_cache", {
  hash: text().primaryKey(),
  template: text().notNull(),
  enhancerModel: text().notNull(),
  result: jsonb().notNull(),
  hits: integer().notNull().default(0),
  createdAt: createdAt(),
  lastHitAt: timestamp({ withTimezone: true }),
});

export type PromptCacheEntry = typeof promptCache.$inferSelect;
