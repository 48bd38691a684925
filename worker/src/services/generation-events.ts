/**
 * The hook point of an asynchronous generation's lifecycle, for the webhooks (issue 18, item 3)
 * to be wired into: called when the consumer starts one, and when one succeeds or fails.
 */
import type { GenerationDeps } from "./generation";

export interface GenerationEvent {
  type: "generation.started" | "generation.succeeded" | "generation.failed";
  generationId: string;
}

/** Does nothing yet: webhook deliveries attach here. */
export async function onGenerationEvent(_deps: Pick<GenerationDeps, "db" | "defer">, _event: GenerationEvent): Promise<void> {}
