import { sql } from "drizzle-orm";
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

/** A billable usage event that has not been sent: billable, with a cost, and no billing_exports row. */
const UNSENT_BILLABLE = sql`
  e.billable and e.cost_usd_micros > 0
  and not exists (select 1 from billing_exports b where b.usage_event_id = e.id)
`;

const STOPPED_BECAUSE: Record<StripeRequestError["kind"], string> = {
  auth: "billing export stopped: Stripe refused STRIPE_SECRET_KEY; set a valid secret key",
  unavailable: "billing export stopped: Stripe is unavailable; the next run sends the rest",
  rejected: `billing export stopped: Stripe refused ${STRIPE_REJECTIONS_PER_RUN} events; check STRIPE_METER_EVENT_NAME and the organizations' Stripe customer ids`,
};

type UnsentEvent = {
  id: string;
  created_at: string | Date;
  /** bigint: the driver returns it as text. */
  cost_usd_micros: string;
  stripe_customer_id: string;
};

/**
 * Sends unsent billable usage to Stripe, one meter event per usage event, oldest first and at
 * most `limit` per run: identifier = the usage event's id, value = its billed cost in USD micros,
 * timestamp = when it happened. Each outcome is recorded in billing_exports as soon as Stripe
 * answers, so a run that stops halfway loses nothing; a resend after a lost answer is refused by
 * Stripe as a duplicate of its identifier and recorded as `already-sent`, never billed twice.
 *
 * Events older than `sendableAfter` are marked `too-old` (Stripe refuses them). A Stripe outage,
 * a refused key or too many refused events stop the run, leaving the rest for the next one.
 */
export async function exportUsageToStripe(
  db: Database,
  meterEvents: MeterEventSink,
  options: { sendableAfter: Date; limit: number },
): Promise<StripeExportReport> {
  const cutoff = options.sendableAfter.toISOString();
  const report: StripeExportReport = { sent: 0, alreadySent: 0, tooOld: 0, noCustomer: 0, rejected: 0, unsent: 0 };

  const expired = await db.execute(sql`
    insert into billing_exports (usage_event_id, outcome)
    select e.id, ${"too-old" satisfies BillingExportOutcome} from usage_events e
    where ${UNSENT_BILLABLE} and e.created_at < ${cutoff}
    order by e.created_at
    limit ${options.limit}
    on conflict (usage_event_id) do nothing
  `);
  report.tooOld = expired.rowCount ?? 0;

  const [batch, waiting] = await Promise.all([
    db.execute<UnsentEvent>(sql`
      select e.id, e.created_at, e.cost_usd_micros, o.stripe_customer_id
      from usage_events e join organizations o on o.id = e.organization_id
      where ${UNSENT_BILLABLE} and e.created_at >= ${cutoff} and o.stripe_customer_id is not null
      order by e.created_at, e.id
      limit ${options.limit}
    `),
    db.execute<{ count: number }>(sql`
      select count(*)::int as count
      from usage_events e join organizations o on o.id = e.organization_id
      where ${UNSENT_BILLABLE} and e.created_at >= ${cutoff} and o.stripe_customer_id is null
    `),
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
        .insert(billingExports)
        .values({ usageEventId: event.id, outcome, stripeCustomerId: event.stripe_customer_id })
        .onConflictDoNothing();
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
