import { type Config, loadConfig } from "./config";
import { createDatabase, type Database } from "./db/client";
import {
  IDEMPOTENCY_RECORDS_PRUNED_PER_RUN,
  ORPHAN_DELETES_PER_RUN,
  ORPHAN_GRACE_MS,
  ORPHAN_SCAN_PER_RUN,
  PRUNED_ROWS_PER_RUN,
  QUOTA_WINDOW_MS,
  STALE_RESERVATIONS_PER_RUN,
  STRIPE_EXPORTS_PER_RUN,
  STRIPE_METER_EVENT_MAX_AGE_MS,
  STUCK_GENERATIONS_PER_RUN,
  WEBHOOK_DELIVERY_RETENTION_MS,
} from "./domain/limits";
import { logFailure } from "./lib/log";
import { createStripeMeterEvents, type MeterEventSink } from "./providers/stripe/meter-events";
import { exportUsageToStripe } from "./services/billing/stripe-export";
import { randomSweepStart, sweepOrphanObjects } from "./services/maintenance/orphan-objects";
import {
  pruneAuditEvents,
  pruneIdempotencyRecords,
  pruneQuotaWindows,
  pruneWebhookDeliveries,
} from "./services/maintenance/pruning";
import { releaseStaleReservations } from "./services/maintenance/stale-reservations";
import { failStuckGenerations, generationBudgetMs } from "./services/maintenance/stuck-generations";
import type { WebhookQueue } from "./services/webhooks/deliveries";
import { createObjectStore, type ObjectStore } from "./storage";

const DAY_MS = 24 * 60 * 60 * 1000;

interface MaintenanceDeps {
  config: Config;
  db: Database;
  store: ObjectStore;
  /** Stripe's meter events, when the billing export is configured. */
  meterEvents?: MeterEventSink;
  /** Where an abandoned generation's generation.failed webhook is queued. */
  webhookQueue: WebhookQueue;
  now: Date;
}

/** What a job did, as counts for its log line. */
type JobReport = Record<string, number>;

/**
 * The maintenance jobs, in the order they run. Each is idempotent (a rerun finds nothing more to
 * do among what it already did) and bounded per run by a named limit (domain/limits.ts).
 */
export const MAINTENANCE_JOBS: Record<string, (deps: MaintenanceDeps) => Promise<JobReport>> = {
  "fail-stuck-generations": ({ db, config, now, webhookQueue }) =>
    failStuckGenerations(
      db,
      { startedBefore: new Date(now.getTime() - generationBudgetMs(config.gemini)), limit: STUCK_GENERATIONS_PER_RUN },
      webhookQueue,
    ),
  // A reservation is made before its generation's model calls, so it outlives them by the same budget.
  "release-stale-budget-reservations": ({ db, config, now }) =>
    releaseStaleReservations(db, {
      madeBefore: new Date(now.getTime() - generationBudgetMs(config.gemini)),
      limit: STALE_RESERVATIONS_PER_RUN,
    }),
  "sweep-orphan-objects": async ({ db, store, now }) =>
    sweepOrphanObjects(
      { db, store },
      {
        writtenBefore: new Date(now.getTime() - ORPHAN_GRACE_MS),
        scanLimit: ORPHAN_SCAN_PER_RUN,
        deleteLimit: ORPHAN_DELETES_PER_RUN,
        startAfter: await randomSweepStart(db),
      },
    ),
  "prune-quota-windows": ({ db, now }) =>
    pruneQuotaWindows(db, { startedBefore: new Date(now.getTime() - QUOTA_WINDOW_MS), limit: PRUNED_ROWS_PER_RUN }),
  "prune-audit-events": ({ db, config, now }) =>
    pruneAuditEvents(db, {
      recordedBefore: new Date(now.getTime() - config.auditRetentionDays * DAY_MS),
      limit: PRUNED_ROWS_PER_RUN,
    }),
  // Past its expiry a record is never read (a retry takes the key over): only its space is left.
  "prune-idempotency-keys": ({ db, now }) =>
    pruneIdempotencyRecords(db, { expiredBefore: now, limit: IDEMPOTENCY_RECORDS_PRUNED_PER_RUN }),
  "prune-webhook-deliveries": ({ db, now }) =>
    pruneWebhookDeliveries(db, {
      createdBefore: new Date(now.getTime() - WEBHOOK_DELIVERY_RETENTION_MS),
      limit: PRUNED_ROWS_PER_RUN,
    }),
  "export-usage-to-stripe": async ({ db, meterEvents, now }) => {
    // Off unless STRIPE_SECRET_KEY and STRIPE_METER_EVENT_NAME are set.
    if (!meterEvents) return { skipped: 1 };
    return exportUsageToStripe(db, meterEvents, {
      sendableAfter: new Date(now.getTime() - STRIPE_METER_EVENT_MAX_AGE_MS),
      limit: STRIPE_EXPORTS_PER_RUN,
    });
  },
};

/**
 * Runs every maintenance job once, one after the other, each reporting in one log line (job,
 * counts, duration). A job that fails is logged and the others still run.
 */
export async function runMaintenance(env: Env, now = new Date()): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    logFailure("maintenance not run", error);
    return;
  }
  // The HTTP path holds no connection, so there is nothing to close afterwards.
  const deps: MaintenanceDeps = {
    config,
    db: createDatabase(config),
    store: createObjectStore(config.storage),
    meterEvents: config.stripe && createStripeMeterEvents(config.stripe),
    webhookQueue: env.WEBHOOK_QUEUE,
    now,
  };
  for (const [job, run] of Object.entries(MAINTENANCE_JOBS)) {
    const started = Date.now();
    try {
      const report = await run(deps);
      console.log(JSON.stringify({ message: "maintenance", job, ...report, durationMs: Date.now() - started }));
    } catch (error) {
      logFailure("maintenance job failed", error, { job, durationMs: String(Date.now() - started) });
    }
  }
}

/** The cron trigger's handler (`[triggers] crons` in wrangler.toml). */
export const scheduled: ExportedHandlerScheduledHandler<Env> = async (_controller, env) => {
  await runMaintenance(env);
};
