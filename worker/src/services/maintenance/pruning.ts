import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { deleteInBatches } from "./batches";

// Each batch is chosen once, in a CTE, so the LIMIT bounds what one statement deletes.

/**
 * Deletes quota windows that started before `startedBefore`, oldest first, at most `limit` rows. Pass a moment
 * one window length ago: every window that started earlier is over, and the quota reads only
 * the current one.
 */
export async function pruneQuotaWindows(
  db: Database,
  options: { startedBefore: Date; limit: number },
): Promise<{ deleted: number }> {
  const cutoff = options.startedBefore.toISOString();
  const deleted = await deleteInBatches(options.limit, async (size) => {
    const result = await db.execute(sql`
      with expired as (
        select api_key_id, window_start from rate_limit_windows where window_start < ${cutoff} order by window_start limit ${size}
      )
      delete from rate_limit_windows where (api_key_id, window_start) in (select api_key_id, window_start from expired)
    `);
    return result.rowCount ?? 0;
  });
  return { deleted };
}

/** Deletes audit events recorded before `recordedBefore`, oldest first, at most `limit` rows. */
export async function pruneAuditEvents(
  db: Database,
  options: { recordedBefore: Date; limit: number },
): Promise<{ deleted: number }> {
  const cutoff = options.recordedBefore.toISOString();
  const deleted = await deleteInBatches(options.limit, async (size) => {
    const result = await db.execute(sql`
      with expired as (
        select id from audit_events where created_at < ${cutoff} order by created_at limit ${size}
      )
      delete from audit_events where id in (select id from expired)
    `);
    return result.rowCount ?? 0;
  });
  return { deleted };
}

/**
 * Deletes idempotency records (services/idempotency.ts) that expired before `expiredBefore`: past
 * it a key is free again and its record is never read. Oldest first, at most `limit` rows.
 */
export async function pruneIdempotencyRecords(
  db: Database,
  options: { expiredBefore: Date; limit: number },
): Promise<{ deleted: number }> {
  const cutoff = options.expiredBefore.toISOString();
  const deleted = await deleteInBatches(options.limit, async (size) => {
    const result = await db.execute(sql`
      with expired as (
        select api_key_id, key from idempotency_keys where expires_at < ${cutoff} order by expires_at limit ${size}
      )
      delete from idempotency_keys where (api_key_id, key) in (select api_key_id, key from expired)
    `);
    return result.rowCount ?? 0;
  });
  return { deleted };
}

/**
 * Deletes webhook deliveries created before `createdBefore` (WEBHOOK_DELIVERY_RETENTION_MS ago),
 * oldest first, at most `limit` rows: by then every attempt is long over, and the list only shows
 * the recent ones that matter.
 */
export async function pruneWebhookDeliveries(
  db: Database,
  options: { createdBefore: Date; limit: number },
): Promise<{ deleted: number }> {
  const cutoff = options.createdBefore.toISOString();
  const deleted = await deleteInBatches(options.limit, async (size) => {
    const result = await db.execute(sql`
      with expired as (
        select id from webhook_deliveries where created_at < ${cutoff} order by created_at limit ${size}
      )
      delete from webhook_deliveries where id in (select id from expired)
    `);
    return result.rowCount ?? 0;
  });
  return { deleted };
}
