/**
 * The Worker's queue handler. Each environment names its queues after its Worker
 * (`banatie-generations`, `banatie-staging-generations`, `banatie-staging-webhooks`, ...:
 * wrangler.toml), so a batch is routed by the end of its queue's name:
 * - `-generations`: asynchronous generations (`Prefer: respond-async`), a message carrying only a
 *   generation id;
 * - `-generations-dlq`: their dead letters, which mark the generation failed and refund it;
 * - `-webhooks`: webhook deliveries, one attempt per message.
 */
import { loadConfig } from "./config";
import { createDatabase } from "./db/client";
import { logFailure } from "./lib/log";
import { createModels } from "./providers";
import type { GenerationDeps } from "./services/generation";
import { failQueuedGeneration, runQueuedGeneration } from "./services/queued-generations";
import { consumeWebhookBatch } from "./services/webhooks/consumer";
import type { WebhookMessage } from "./services/webhooks/deliveries";
import { createObjectStore } from "./storage";

/** What a generations queue message carries: the id of a pending generation, nothing else. */
export interface GenerationMessage {
  generationId: string;
}

const GENERATIONS_SUFFIX = "-generations";
/** Dead-letter queues are named after their queue with this suffix (wrangler.toml). */
const DEAD_LETTER_SUFFIX = "-dlq";
const WEBHOOKS_SUFFIX = "-webhooks";

export const queue: ExportedHandlerQueueHandler<Env> = async (batch, env) => {
  const name = batch.queue;
  if (name.endsWith(WEBHOOKS_SUFFIX)) {
    const config = loadConfig(env);
    await consumeWebhookBatch(batch as MessageBatch<WebhookMessage>, {
      db: createDatabase(config),
      environment: config.environment,
    });
    return;
  }
  if (name.endsWith(GENERATIONS_SUFFIX) || name.endsWith(GENERATIONS_SUFFIX + DEAD_LETTER_SUFFIX)) {
    await consumeGenerationBatch(batch as MessageBatch<GenerationMessage>, env, name.endsWith(DEAD_LETTER_SUFFIX));
    return;
  }
  // A queue this Worker consumes without knowing it: leave its messages to the queue's retries.
  logFailure("message batch from an unknown queue", new Error(name));
  batch.retryAll();
};

/** The generation services for one message, as the request middleware builds them for a request. */
function generationDeps(env: Env): { deps: GenerationDeps; settled: () => Promise<unknown> } {
  const config = loadConfig(env);
  const deferred: Promise<unknown>[] = [];
  const { imageModel, enhancer } = createModels(config.gemini);
  const deps: GenerationDeps = {
    db: createDatabase(config),
    store: createObjectStore(config.storage),
    imageModel,
    enhancer,
    billingExport: config.stripe !== undefined,
    webhookQueue: env.WEBHOOK_QUEUE,
    defer(task) {
      deferred.push(task().catch((error: unknown) => logFailure("background task failed", error)));
    },
    // No response to wait for: in the background, as defer.
    afterResponse: (task) => deps.defer(task),
  };
  return { deps, settled: () => Promise.allSettled(deferred) };
}

/**
 * Each message is acknowledged once handled (a generation run, failed, or found already claimed),
 * or retried after a transient fault; a dead letter marks its generation failed and refunds it.
 * A message that throws is retried too: the queue's max_retries, then the dead-letter queue.
 */
async function consumeGenerationBatch(batch: MessageBatch<GenerationMessage>, env: Env, deadLetters: boolean): Promise<void> {
  // The messages of a batch are independent generations: run side by side.
  await Promise.all(
    batch.messages.map(async (message) => {
      const { generationId } = message.body;
      const { deps, settled } = generationDeps(env);
      try {
        if (deadLetters) {
          await failQueuedGeneration(deps, generationId, {
            code: "GENERATION_RETRIES_EXHAUSTED",
            message: "The generation failed on every delivery of its queue message; its quota and budget were refunded",
          });
          message.ack();
        } else {
          const outcome = await runQueuedGeneration(deps, generationId);
          if (outcome === "retry") message.retry();
          else message.ack();
        }
      } catch (error) {
        logFailure("queued generation not handled", error, { generationId, queue: batch.queue });
        message.retry();
      } finally {
        await settled();
      }
    }),
  );
}
