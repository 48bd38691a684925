import { integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { projects } from "./projects";

/**
 * Enhancements per project, keyed by SHA-256 of (normalized prompt, template, enhancer model).
 * The project is part of the key: a hit would otherwise tell one tenant what another prompted.
 */
export const promptCache = pgTable(
  "prompt_cache",
  {
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    hash: text().notNull(),
    template: text().notNull(),
    enhancerModel: text().notNull(),
    result: jsonb().notNull(),
    hits: integer().notNull().default(0),
    createdAt: createdAt(),
    lastHitAt: timestamp({ withTimezone: true }),
  },
  (table) => [primaryKey({ name: "prompt_cache_project_hash_pk", columns: [table.projectId, table.hash] })],
);

export type PromptCacheEntry = typeof promptCache.$inferSelect;
