import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type BillingExportOutcome, billingExports } from "../../db/schema";
import { STRIPE_REJECTIONS_PER_RUN } from "../../domain/limits";
import { logFailure } from "../../lib/log";
import { type MeterEventSink, StripeRequestError } from "../../providers/stripe/meter-events";

export type StripeExportReport = {
  /** Meter events Stripe recorded in this run. */
  sent: number;
  /** Events Stripe already held (an earlier attempt reached it; its answer was lost): now marked sent. */
  alreadySent: number;
  /** Events older than Stripe takes, marked as never to be sent. */
  tooOld: number;
  /** Unsent events of organizations without a Stripe customer id: kept for when they get one. */
  noCustomer: number;
  /**
   * Events Stripe refused (a customer it does not know, say): left unsent, logged, tried again next
   * run. After STRIPE_REJECTIONS_PER_RUN of them the run stops.
   */
  rejected: number;
  /** Events of this run's batch left untried for the next run, because the run stopped. */
  unsent: number;
};

const STOPPED_BECAUSE: Record<StripeRequestError["kind"], string> = {
  auth: "billing export stopped: Stripe refused STRIPE_SECRET_KEY; set a valid secret key",
  unavailable: "billing export stopped: Stripe is unavailable; the next run sends the rest",
  rejected: `billing export stopped: Stripe refused ${STRIPE_REJECTIONS_PER_RUN} events; check STRIPE_METER_EVENT_NAME and the organizations' Stripe customer ids`,
};

type PendingEvent = {
  id: string;
  created_at: string | Date;
  /** bigint: the driver returns it as text. */
  cost_usd_micros: string;
  stripe_customer_id: string;
};

/**
 * Sends the billable usage queued for the export (billing_exports rows still `pending`) to
 * Stripe, one meter event per usage event, oldest first and at most `limit` per run:
 * identifier = the usage event's id, value = its billed cost in USD micros, timestamp = when it
 * happened. Each outcome is recorded as soon as Stripe answers, so a run that stops halfway loses
 * nothing; a resend after a lost answer is refused by Stripe as a duplicate of its identifier and
 * recorded as `already-sent`, never billed twice. Every statement reads pending rows through
 * their partial index, so a run costs what is waiting, however much was sent before.
 *
 * Pending events queued before `sendableAfter` are marked `too-old` (Stripe refuses them). A
 * Stripe outage, a refused key or too many refused events stop the run, leaving the rest for the
 * next one.
 */
export async function exportUsageToStripe(
  db: Database,
  meterEvents: MeterEventSink,
  options: { sendableAfter: Date; limit: number },
): Promise<StripeExportReport> {
  const cutoff = options.sendableAfter.toISOString();
  const report: StripeExportReport = { sent: 0, alreadySent: 0, tooOld: 0, noCustomer: 0, rejected: 0, unsent: 0 };

  const expired = await db.execute(sql`
    update billing_exports set outcome = ${"too-old" satisfies BillingExportOutcome}, settled_at = now()
    where usage_event_id in (
      select usage_event_id from billing_exports
      where outcome = 'pending' and queued_at < ${cutoff}
      order by queued_at
      limit ${options.limit}
    ) and outcome = 'pending'
  `);
  report.tooOld = expired.rowCount ?? 0;

  const pending = sql`
    from billing_exports x
    join usage_events e on e.id = x.usage_event_id
    join organizations o on o.id = e.organization_id
    where x.outcome = 'pending' and x.queued_at >= ${cutoff}
  `;
  const [batch, waiting] = await Promise.all([
    db.execute<PendingEvent>(sql`
      select e.id, e.created_at, e.cost_usd_micros, o.stripe_customer_id
      ${pending} and o.stripe_customer_id is not null
      order by x.queued_at, x.usage_event_id
      limit ${options.limit}
    `),
    db.execute<{ count: number }>(sql`select count(*)::int as count ${pending} and o.stripe_customer_id is null`),
  ]);
  report.noCustomer = waiting.rows[0]?.count ?? 0;

  for (const [index, event] of batch.rows.entries()) {
    try {
      const outcome = await meterEvents.send({
        identifier: event.id,
        customerId: event.stripe_customer_id,
        value: Number(event.cost_usd_micros),
        timestamp: new Date(event.created_at),
      });
      await db
        .update(billingExports)
        .set({ outcome, stripeCustomerId: event.stripe_customer_id, settledAt: sql`now()` })
        .where(and(eq(billingExports.usageEventId, event.id), eq(billingExports.outcome, "pending")));
      if (outcome === "sent") report.sent++;
      else report.alreadySent++;
    } catch (error) {
      if (!(error instanceof StripeRequestError)) throw error;
      if (error.kind === "rejected") {
        report.rejected++;
        logFailure("Stripe refused a meter event; it stays unsent", error, { usageEventId: event.id });
        if (report.rejected < STRIPE_REJECTIONS_PER_RUN) continue;
      }
      report.unsent = batch.rows.length - index - (error.kind === "rejected" ? 1 : 0);
      logFailure(STOPPED_BECAUSE[error.kind], error);
      break;
    }
  }
  return report;
}
