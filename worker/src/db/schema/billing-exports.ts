import { pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { usageEvents } from "./usage-events";

/**
 * What became of a billable usage event at Stripe:
 * - `sent`: Stripe took it as a meter event;
 * - `already-sent`: Stripe refused it as a duplicate of its identifier, so an earlier attempt whose
 *   answer was lost had reached it;
 * - `too-old`: it was older than Stripe takes meter events (35 days) before it could be sent.
 */
export type BillingExportOutcome = "sent" | "already-sent" | "too-old";

/**
 * The export state of billable usage events (usage_events stays append-only). A usage event
 * without a row here has not been sent yet; the meter event's identifier is the usage event id.
 */
export const billingExports = pgTable("billing_exports", {
  usageEventId: uuid()
    .primaryKey()
    .references(() => usageEvents.id, { onDelete: "restrict" }),
  outcome: text().$type<BillingExportOutcome>().notNull(),
  /** The customer the meter event was sent for; null when it was never sent. */
  stripeCustomerId: text(),
  recordedAt: createdAt(),
});

export type BillingExport = typeof billingExports.$inferSelect;
