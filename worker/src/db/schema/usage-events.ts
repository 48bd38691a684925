import { bigint, boolean, index, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import type { Provider } from "../../domain/pricing";
import { apiKeys } from "./api-keys";
import { createdAt, id } from "./columns";
import { generations } from "./generations";
import { organizations } from "./organizations";
import { projects } from "./projects";

/** A generation's image-model call, or a text-model call that improved a prompt. */
export type UsageEventKind = "generation" | "enhancement";

/**
 * One model call and what it cost, priced when it happened. Append-only: no code updates or
 * deletes these rows (maintenance prunes audit events and quota windows, never usage), since
 * they are what is billed and what the platform owner audits; a correction is a new event.
 * The foreign keys restrict deletion for the same reason.
 *
 * `billable` is false for calls the provider charged for but the user is not charged (a blocked
 * or failed generation): their cost is kept for the platform owner. `cost_usd_micros` is null
 * only when the price table did not know the model (it never guesses a price).
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    id: id(),
    createdAt: createdAt(),
    organizationId: uuid()
      .notNull()
      .references(() => organizations.id, { onDelete: "restrict" }),
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    apiKeyId: uuid()
      .notNull()
      .references(() => apiKeys.id, { onDelete: "restrict" }),
    generationId: uuid().references(() => generations.id, { onDelete: "restrict" }),
    kind: text().$type<UsageEventKind>().notNull(),
    provider: text().$type<Provider>().notNull(),
    model: text().notNull(),
    inputTextTokens: integer().notNull().default(0),
    inputImageTokens: integer().notNull().default(0),
    outputTextTokens: integer().notNull().default(0),
    outputImageTokens: integer().notNull().default(0),
    // An image is ~38,700 micros: integer holds one call; bigint keeps sums in SQL exact.
    costUsdMicros: bigint({ mode: "number" }),
    priceVersion: text().notNull(),
    billable: boolean().notNull(),
  },
  (table) => [
    // The usage queries read one project's or one key's events in a time range.
    index("usage_events_project_created_idx").on(table.projectId, table.createdAt),
    index("usage_events_api_key_created_idx").on(table.apiKeyId, table.createdAt),
    index("usage_events_generation_idx").on(table.generationId),
  ],
);

export type UsageEvent = typeof usageEvents.$inferSelect;
export type NewUsageEvent = typeof usageEvents.$inferInsert;
