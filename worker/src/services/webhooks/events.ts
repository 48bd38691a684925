import type { WebhookPayload } from "../../db/schema";

/** The events a project may subscribe to, in the order a generation emits them. */
export const WEBHOOK_EVENTS = ["generation.started", "generation.succeeded", "generation.failed"] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What a generation event tells: enough to fetch the rest, never the image itself. */
export interface GenerationEventData {
  id: string;
  status: string;
  imageUrl: string | null;
  /** What the generation was charged, in USD micros; null while unknown. */
  costUsdMicros: number | null;
  /** Why it failed (a generation.failed event); null otherwise. */
  errorCode?: string | null;
}

/** The body of a generation event, in the Standard Webhooks shape (`type`, `timestamp`, `data`). */
export function generationPayload(type: WebhookEventType, generation: GenerationEventData, now: Date): WebhookPayload {
  return {
    type,
    timestamp: now.toISOString(),
    data: {
      id: generation.id,
      status: generation.status,
      imageUrl: generation.imageUrl,
      costUsdMicros: generation.costUsdMicros,
      errorCode: generation.errorCode ?? null,
    },
  };
}
