import { bigint, boolean, date, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import type { Provider } from "../../domain/pricing";

/**
 * Daily sums of `usage_events`, one row per UTC day, key, model and billability: what the usage
 * API reads, so a month of a million events is a few hundred rows. Written in the same
 * transaction as the events it sums (services/usage.ts), so it always equals their raw sum.
 * No foreign keys: like the events it sums, it is never deleted with what it refers to.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    day: date({ mode: "string" }).notNull(),
    organizationId: uuid().notNull(),
    projectId: uuid().notNull(),
    apiKeyId: uuid().notNull(),
    provider: text().$type<Provider>().notNull(),
    model: text().notNull(),
    billable: boolean().notNull(),
    /** Model calls. */
    requests: integer().notNull(),
    /** Image-model calls (kind `generation`), each of which made one image or tried to. */
    images: integer().notNull(),
    inputTokens: bigint({ mode: "number" }).notNull(),
    outputTokens: bigint({ mode: "number" }).notNull(),
    costUsdMicros: bigint({ mode: "number" }).notNull(),
  },
  (table) => [
    primaryKey({
      columns: [table.day, table.organizationId, table.projectId, table.apiKeyId, table.provider, table.model, table.billable],
    }),
  ],
);
