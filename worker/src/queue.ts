import { loadConfig } from "./config";
import { createDatabase } from "./db/client";
import { logFailure } from "./lib/log";
import { consumeWebhookBatch } from "./services/webhooks/consumer";
import type { WebhookMessage } from "./services/webhooks/deliveries";

/**
 * The Worker's queue handler. Each environment names its queues after itself
 * (`banatie-webhooks`, `banatie-staging-webhooks`, ...: wrangler.toml), so a batch is routed by
 * the end of its queue's name.
 */
export const queue: ExportedHandlerQueueHandler<Env> = async (batch, env) => {
  if (batch.queue.endsWith("-webhooks")) {
    const config = loadConfig(env);
    await consumeWebhookBatch(batch as MessageBatch<WebhookMessage>, {
      db: createDatabase(config),
      environment: config.environment,
    });
    return;
  }
  // A queue this Worker consumes without knowing it: leave its messages to the queue's retries.
  logFailure("message batch from an unknown queue", new Error(batch.queue));
  batch.retryAll();
};
