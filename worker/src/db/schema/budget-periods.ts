import { sql } from "drizzle-orm";
import { bigint, check, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { timestampTz } from "./columns";

/**
 * One row per budgeted scope (a key or a project) and calendar month (UTC): what was spent and
 * what running generations have reserved. Reservations and settlements are additive updates, so
 * concurrent requests never lose each other's amounts (services/budgets.ts).
 */
export const budgetPeriods = pgTable(
  "budget_periods",
  {
    scopeKind: text().$type<"key" | "project">().notNull(),
    scopeId: uuid().notNull(),
    periodStart: timestamp({ withTimezone: true }).notNull(),
    spentUsdMicros: bigint({ mode: "number" }).notNull().default(0),
    reservedUsdMicros: bigint({ mode: "number" }).notNull().default(0),
    /** When spending first reached the soft threshold this period; it is audited once. */
    thresholdReachedAt: timestampTz(),
  },
  (table) => [
    primaryKey({ columns: [table.scopeKind, table.scopeId, table.periodStart] }),
    check("budget_periods_scope_kind", sql`${table.scopeKind} in ('key', 'project')`),
    check("budget_periods_amounts_not_negative", sql`${table.spentUsdMicros} >= 0 and ${table.reservedUsdMicros} >= 0`),
  ],
);
