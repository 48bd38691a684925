import { and, count, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type WebhookDelivery, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { WEBHOOK_ATTEMPT_TIMEOUT_MS, WEBHOOK_RETRY_DELAYS_SECONDS } from "../../domain/limits";
import { type GenerationEventData, generationPayload, type WebhookEventType } from "./events";
import { activeSecrets, disableWebhookEndpoint, readWebhookEndpoint } from "./settings";
import { generateMessageId, webhookHeaders } from "./signing";
import { checkWebhookUrl } from "./url-safety";

/** The queue message of a webhook delivery: only its row's id, the row holds the rest. */
export interface WebhookMessage {
  deliveryId: string;
}

/** The webhooks queue (the WEBHOOK_QUEUE binding), as the producer side needs it. */
export interface WebhookQueue {
  send(body: WebhookMessage, options?: QueueSendOptions): Promise<unknown>;
}

export interface WebhookEvent {
  projectId: string;
  type: WebhookEventType;
  generation: GenerationEventData;
  /** Given with the request that started the generation: sent there instead of the project's endpoint. */
  webhook?: { url: string; events: readonly WebhookEventType[] };
}

/**
 * Records a delivery of `event` and puts it on the webhooks queue, when someone listens for it:
 * the request's own webhook, or else the project's enabled endpoint subscribed to the event.
 * Returns the delivery, or undefined when nobody listens.
 */
export async function queueWebhookEvent(
  deps: { db: Database; queue: WebhookQueue; now?: Date },
  event: WebhookEvent,
): Promise<WebhookDelivery | undefined> {
  const now = deps.now ?? new Date();
  const target = event.webhook ? { url: event.webhook.url, events: event.webhook.events, override: true } : undefined;
  const endpoint = target ? undefined : await readWebhookEndpoint(deps.db, event.projectId);
  const destination =
    target ?? (endpoint?.url && endpoint.enabled ? { url: endpoint.url, events: endpoint.events, override: false } : undefined);
  if (!destination?.events.includes(event.type)) return undefined;
  const [delivery] = await deps.db
    .insert(webhookDeliveries)
    .values({
      projectId: event.projectId,
      messageId: generateMessageId(),
      eventType: event.type,
      url: destination.url,
      override: destination.override,
      payload: generationPayload(event.type, event.generation, now),
      nextAttemptAt: now,
    })
    .returning();
  const row = delivery as WebhookDelivery;
  await deps.queue.send({ deliveryId: row.id }, { contentType: "json" });
  return row;
}

export interface AttemptDeps {
  db: Database;
  /** ENVIRONMENT: which receivers are allowed (url-safety.ts). */
  environment: string;
  now?: () => Date;
  /** Time one attempt has; WEBHOOK_ATTEMPT_TIMEOUT_MS unless a test shortens it. */
  timeoutMs?: number;
}

/** What an attempt left to do: nothing more, or another attempt after `delaySeconds`. */
export type AttemptOutcome = { next: "done" } | { next: "retry"; delaySeconds: number };

interface AttemptResult {
  status?: number;
  latencyMs?: number;
  error?: string;
  /** Not sent at all: the URL or the missing secret was refused. */
  refused?: true;
}

/**
 * The delivery's state after an attempt. A redelivery that fails leaves a delivery still
 * waiting for its scheduled attempt pending, and any other failed.
 */
function nextState(attempt: {
  succeeded: boolean;
  gone: boolean;
  retry: boolean;
  redeliver: boolean;
  previous: WebhookDelivery["state"];
}): WebhookDelivery["state"] {
  if (attempt.succeeded) return "succeeded";
  if (attempt.retry) return "pending";
  if (attempt.redeliver && !attempt.gone && attempt.previous === "pending") return "pending";
  return "failed";
}

/**
 * Sends one attempt of a delivery and records it. A 2xx succeeds; a 410 gives up and disables
 * the project's endpoint; anything else (another status, a redirect, a timeout, a refused URL)
 * fails the attempt, and the next one is due after the Standard Webhooks schedule, until it
 * runs out. `redeliver` sends even a finished delivery, once, without scheduling more.
 */
export async function attemptDelivery(
  deps: AttemptDeps,
  deliveryId: string,
  options: { redeliver?: boolean } = {},
): Promise<AttemptOutcome> {
  const now = deps.now ?? (() => new Date());
  // The delivery and its project's endpoint (secrets, enabled) in one round trip.
  const [found] = await deps.db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .leftJoin(webhookEndpoints, eq(webhookEndpoints.projectId, webhookDeliveries.projectId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!found || (found.delivery.state !== "pending" && !options.redeliver)) return { next: "done" };
  const { delivery, endpoint } = found;
  const sentAt = now();
  // A 410 disabled the project's endpoint: its queued attempts stop; a redelivery is asked for.
  const stopped = endpoint !== null && !endpoint.enabled && !delivery.override && !options.redeliver;
  const result: AttemptResult = stopped
    ? { refused: true, error: "refused: the endpoint is disabled" }
    : await send(deps, delivery, activeSecrets(endpoint, sentAt), sentAt);

  const succeeded = result.status !== undefined && result.status >= 200 && result.status < 300;
  const gone = result.status === 410;
  const delaySeconds = WEBHOOK_RETRY_DELAYS_SECONDS[delivery.attempts];
  // A refusal (URL, secret) would be refused again: only a failed exchange is worth retrying.
  const retry = !succeeded && !gone && !options.redeliver && !result.refused && delaySeconds !== undefined;
  const state = nextState({ succeeded, gone, retry, redeliver: Boolean(options.redeliver), previous: delivery.state });
  const record = deps.db
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      state,
      lastStatusCode: result.status ?? null,
      lastLatencyMs: result.latencyMs ?? null,
      lastError: result.error ?? null,
      lastAttemptAt: sentAt,
      nextAttemptAt:
        retry && delaySeconds !== undefined
          ? new Date(sentAt.getTime() + delaySeconds * 1000)
          : state === "pending"
            ? delivery.nextAttemptAt
            : null,
    })
    .where(eq(webhookDeliveries.id, delivery.id));
  if (gone && !delivery.override) {
    await deps.db.batch([record, disableWebhookEndpoint(deps.db, delivery.projectId, "The receiver answered 410 Gone")]);
  } else {
    await record;
  }
  return retry && delaySeconds !== undefined ? { next: "retry", delaySeconds } : { next: "done" };
}

/** One POST to the receiver, never following redirects, within the attempt's time. */
async function send(deps: AttemptDeps, delivery: WebhookDelivery, secrets: string[], sentAt: Date): Promise<AttemptResult> {
  if (secrets.length === 0) {
    return { refused: true, error: "refused: the project has no signing secret (POST /api/v1/webhooks/secret)" };
  }
  const verdict = checkWebhookUrl(delivery.url, deps.environment);
  if (!verdict.ok) return { refused: true, error: `refused: the URL ${verdict.reason}` };
  const body = JSON.stringify(delivery.payload);
  const headers = await webhookHeaders(secrets, { id: delivery.messageId, timestamp: sentAt, body });
  const started = Date.now();
  try {
    const response = await fetch(verdict.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "Banatie-Webhooks/1.0" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(deps.timeoutMs ?? WEBHOOK_ATTEMPT_TIMEOUT_MS),
    });
    // The receiver's answer is not read beyond its status: it could be anything, of any size.
    await response.body?.cancel();
    const latencyMs = Date.now() - started;
    const redirected = response.status >= 300 && response.status < 400;
    return { status: response.status, latencyMs, error: redirected ? "redirects are not followed" : undefined };
  } catch (error) {
    const latencyMs = Date.now() - started;
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return { latencyMs, error: timedOut ? "no answer within the attempt's time" : "the receiver could not be reached" };
  }
}

/** A page of the project's deliveries, newest first. */
export async function listDeliveries(
  db: Database,
  projectId: string,
  page: { limit: number; offset: number },
): Promise<{ deliveries: WebhookDelivery[]; total: number }> {
  const [deliveries, totals] = await db.batch([
    db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.projectId, projectId))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(page.limit)
      .offset(page.offset),
    db.select({ total: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.projectId, projectId)),
  ]);
  return { deliveries, total: totals[0]?.total ?? 0 };
}

/** One of the project's deliveries; another project's is not found. */
export async function findDelivery(db: Database, projectId: string, id: string): Promise<WebhookDelivery | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.projectId, projectId), eq(webhookDeliveries.id, id)));
  return row;
}
