import { sql } from "drizzle-orm";
import { check, index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestampTz } from "./columns";
import { usageEvents } from "./usage-events";

/**
 * Where a billable usage event stands with Stripe:
 * - `pending`: queued when the event was recorded, not sent yet;
 * - `sent`: Stripe took it as a meter event;
 * - `already-sent`: Stripe refused it as a duplicate of its identifier, so an earlier attempt whose
 *   answer was lost had reached it;
 * - `too-old`: it was older than Stripe takes meter events (35 days) before it could be sent.
 */
export type BillingExportOutcome = "pending" | "sent" | "already-sent" | "too-old";

/**
 * The billing export's queue (an outbox), so usage_events stays append-only: while the export is
 * on, each billable usage event gets a `pending` row here in the transaction that records it,
 * and the export works through pending rows only. A run therefore costs what is waiting, never
 * what was already sent. The meter event's identifier is the usage event id.
 */
export const billingExports = pgTable(
  "billing_exports",
  {
    usageEventId: uuid()
      .primaryKey()
      .references(() => usageEvents.id, { onDelete: "restrict" }),
    outcome: text().$type<BillingExportOutcome>().notNull().default("pending"),
    /** When the usage event was recorded (the same transaction): the export's order and Stripe's age limit. */
    queuedAt: createdAt(),
    /** The customer the meter event was sent for; null until it is sent. */
    stripeCustomerId: text(),
    /** When Stripe's answer (or the age limit) settled it; null while pending. */
    settledAt: timestampTz(),
  },
  (table) => [
    index("billing_exports_pending_idx").on(table.queuedAt).where(sql`${table.outcome} = 'pending'`),
    check("billing_exports_outcome", sql`${table.outcome} in ('pending', 'sent', 'already-sent', 'too-old')`),
  ],
);

export type BillingExport = typeof billingExports.$inferSelect;
