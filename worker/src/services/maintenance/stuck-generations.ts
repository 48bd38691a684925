import { sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { MODEL_CALLS_PER_GENERATION, STUCK_GENERATION_MARGIN_MS } from "../../domain/limits";
import type { ErrorCode } from "../../lib/errors";
import { onGenerationEvent } from "../generation-events";
import { refundQueuedGeneration } from "../queued-generations";
import type { WebhookQueue } from "../webhooks/deliveries";

/**
 * The longest a generation can run: every model call with all its attempts at their full
 * timeout, plus a margin. A generation still pending after that will never finish: the request
 * that ran it ended (the client went away, the isolate was evicted) before recording an outcome.
 */
export function generationBudgetMs(gemini: Pick<Config["gemini"], "timeoutMs" | "maxAttempts">): number {
  return gemini.timeoutMs * gemini.maxAttempts * MODEL_CALLS_PER_GENERATION + STUCK_GENERATION_MARGIN_MS;
}

const ABANDONED_CODE: ErrorCode = "GENERATION_ABANDONED";
const ABANDONED_MESSAGE = "The generation was still pending long after its time budget; its request ended without an outcome";

/**
 * Marks generations pending since before `startedBefore`, or processing (claimed by the queue
 * consumer) since then, as failed with GENERATION_ABANDONED, at most `limit` of them, oldest
 * first; an asynchronous one is refunded. Rows a request is writing right now are skipped, and a
 * generation that completes meanwhile keeps its outcome, so a rerun changes nothing more. With
 * `webhookQueue`, each sends generation.failed to whoever listens.
 */
export async function failStuckGenerations(
  db: Database,
  options: { startedBefore: Date; limit: number },
  webhookQueue?: WebhookQueue,
): Promise<{ failed: number }> {
  // The rows are chosen once, in a CTE: as a subquery of the UPDATE, PostgreSQL may run the
  // LIMIT again for rows the statement already changed and so go past the limit.
  const result = await db.execute(sql`
    with stuck as (
      select id from generations
      where (status = 'pending' and created_at < ${options.startedBefore.toISOString()})
         or (status = 'processing' and updated_at < ${options.startedBefore.toISOString()})
      order by created_at
      limit ${options.limit}
      for update skip locked
    )
    update generations
    set status = 'failed', error_code = ${ABANDONED_CODE}, error_message = ${ABANDONED_MESSAGE}, completed_at = now()
    where id in (select id from stuck) and status in ('pending', 'processing')
    returning id, queued_request is not null as queued
  `);
  // The budget releases are awaited here: a scheduled run has no response to defer them after.
  const releases: Promise<unknown>[] = [];
  const defer = (task: () => Promise<unknown>) => void releases.push(task());
  const deps = { db, defer, afterResponse: defer };
  for (const row of result.rows as { id: string; queued: boolean }[]) {
    if (row.queued) await refundQueuedGeneration(deps, row.id);
    if (webhookQueue) onGenerationEvent({ ...deps, webhookQueue }, { type: "generation.failed", generationId: row.id });
  }
  await Promise.allSettled(releases);
  return { failed: result.rowCount ?? 0 };
}
