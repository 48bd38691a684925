/**
 * The queue() handler: asynchronous generations (`Prefer: respond-async`) arrive here as messages
 * carrying only a generation id. Its dead-letter queue comes to the same handler, told apart by
 * its name (`...-dlq`, wrangler.toml).
 */

/** What a generations queue message carries: the id of a pending generation, nothing else. */
export interface GenerationMessage {
  generationId: string;
}

/** Dead-letter queues are named after their queue with this suffix (wrangler.toml). */
const DEAD_LETTER_SUFFIX = "-dlq";

export function isDeadLetterQueue(queueName: string): boolean {
  return queueName.endsWith(DEAD_LETTER_SUFFIX);
}

export const queue: ExportedHandlerQueueHandler<Env, GenerationMessage> = async (batch) => {
  // The consumer is wired in the next step; until then a message is acknowledged and logged.
  for (const message of batch.messages) {
    console.log(JSON.stringify({ message: "generation message", queue: batch.queue, generationId: message.body.generationId }));
    message.ack();
  }
};
