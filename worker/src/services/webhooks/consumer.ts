import type { Database } from "../../db/client";
import { logFailure } from "../../lib/log";
import { type AttemptDeps, attemptDelivery, type WebhookMessage } from "./deliveries";

/**
 * The webhooks queue's consumer: one attempt per message. A failed attempt puts the message
 * back with the schedule's delay (`retry({ delaySeconds })`), so the queue, not the Worker,
 * waits; anything else acknowledges it. An error of our own (the database down) retries the
 * message after the queue's own delay, without counting an attempt. Messages are attempted in
 * parallel: one slow receiver does not hold up the others' attempts.
 */
export async function consumeWebhookBatch(
  batch: MessageBatch<WebhookMessage>,
  deps: AttemptDeps & { db: Database },
): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const outcome = await attemptDelivery(deps, message.body.deliveryId);
        if (outcome.next === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
        else message.ack();
      } catch (error) {
        logFailure("webhook attempt not recorded", error, { deliveryId: message.body.deliveryId });
        message.retry();
      }
    }),
  );
}
