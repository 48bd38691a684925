import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { expect } from "vitest";
import type { ReceivedWebhook, ScriptedAnswer } from "../../../dev/webhook-receiver/server";
import { consumeWebhookBatch } from "../../src/services/webhooks/consumer";
import type { AttemptDeps, WebhookMessage, WebhookQueue } from "../../src/services/webhooks/deliveries";
import { testEnv } from "./app";

/** The webhook receiver of the global setup (dev/webhook-receiver), on 127.0.0.1. */
const RECEIVER_URL = (testEnv as unknown as { WEBHOOK_RECEIVER_URL: string }).WEBHOOK_RECEIVER_URL;

/** A fresh inbox name: test files share the receiver. */
export function freshInbox(base: string): string {
  return `${base}-${crypto.randomUUID().slice(0, 8)}`;
}

/** The URL whose requests the receiver records in `inbox`. */
export function inboxUrl(inbox: string): string {
  return `${RECEIVER_URL}/hooks/${inbox}`;
}

/** The receiver's next answers to `inbox`, in order; after them it answers 204. */
export async function scriptInbox(inbox: string, answers: ScriptedAnswer[]): Promise<void> {
  const response = await fetch(`${RECEIVER_URL}/__fake/inboxes/${inbox}/script`, {
    method: "PUT",
    body: JSON.stringify(answers),
  });
  await response.body?.cancel();
}

/** What `inbox` received, oldest first. */
export async function receivedBy(inbox: string): Promise<ReceivedWebhook[]> {
  const response = await fetch(`${RECEIVER_URL}/__fake/inboxes/${inbox}/requests`);
  return (await response.json()) as ReceivedWebhook[];
}

/** A webhooks queue that keeps what is sent to it, so a test hands it to the consumer itself. */
export function recordingQueue(): WebhookQueue & { sent: WebhookMessage[] } {
  const sent: WebhookMessage[] = [];
  return {
    sent,
    async send(body: WebhookMessage) {
      sent.push(body);
    },
  };
}

/**
 * Runs the consumer on one message, as the queue would deliver it after `attempts - 1` retries,
 * and returns what it asked of the queue: how many messages it acknowledged, and the delay of
 * each retry (the plugin's getQueueResult records retries, not their delays).
 */
export async function consumeOnce(deps: AttemptDeps, message: WebhookMessage, attempts = 1) {
  const batch = createMessageBatch<WebhookMessage>("banatie-webhooks", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body: message },
  ]);
  const retryDelays: (number | undefined)[] = [];
  for (const queued of batch.messages) {
    const retry = queued.retry.bind(queued);
    queued.retry = (options?: QueueRetryOptions) => {
      retryDelays.push(options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await consumeWebhookBatch(batch, deps);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toHaveLength(retryDelays.length);
  return { acked: result.explicitAcks.length, retryDelays };
}
