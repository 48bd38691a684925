import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";

/**
 * Money one running generation holds against its budgets, until it is settled or released.
 * `budget_periods.reserved_usd_micros` is the sum of these; the row is what makes closing a
 * reservation happen exactly once (whoever deletes it releases it), and what lets maintenance
 * release the reservations of requests that ended without closing theirs.
 */
export const budgetReservations = pgTable(
  "budget_reservations",
  {
    id: id(),
    keyId: uuid().notNull(),
    projectId: uuid().notNull(),
    /** The budget_periods month the money is held in. */
    periodStart: timestamp({ withTimezone: true }).notNull(),
    /** The scopes (key, project) holding it: those with a budget when it was made. */
    scopes: text().array().$type<("key" | "project")[]>().notNull(),
    usdMicros: bigint({ mode: "number" }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index("budget_reservations_created_at_idx").on(table.createdAt),
    check("budget_reservations_amount_not_negative", sql`${table.usdMicros} >= 0`),
  ],
);
