/**
 * The queue() handler: asynchronous generations (`Prefer: respond-async`) arrive here as messages
 * carrying only a generation id. Its dead-letter queue comes to the same handler, told apart by
 * its name (`...-dlq`, wrangler.toml).
 */
import { loadConfig } from "./config";
import { createDatabase } from "./db/client";
import { logFailure } from "./lib/log";
import { createModels } from "./providers";
import type { GenerationDeps } from "./services/generation";
import { failQueuedGeneration, runQueuedGeneration } from "./services/queued-generations";
import { createObjectStore } from "./storage";

/** What a generations queue message carries: the id of a pending generation, nothing else. */
export interface GenerationMessage {
  generationId: string;
}

/** Dead-letter queues are named after their queue with this suffix (wrangler.toml). */
const DEAD_LETTER_SUFFIX = "-dlq";

export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith(DEAD_LETTER_SUFFIX);
}

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
    defer(task) {
      deferred.push(task().catch((error: unknown) => logFailure("background task failed", error)));
    },
  };
  return { deps, settled: () => Promise.allSettled(deferred) };
}

/**
 * Each message is acknowledged once handled (a generation run, failed, or found already claimed),
 * or retried after a transient fault; a dead letter marks its generation failed and refunds it.
 * A message that throws is retried too: the queue's max_retries, then the dead-letter queue.
 */
export const queue: ExportedHandlerQueueHandler<Env, GenerationMessage> = async (batch, env) => {
  const deadLetters = isDeadLetterQueue(batch.queue);
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
};
