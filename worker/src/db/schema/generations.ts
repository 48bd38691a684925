import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { TokenUsage } from "../../domain/usage";
import { apiKeys } from "./api-keys";
import { createdAt, id, timestampTz } from "./columns";
import { projects } from "./projects";

/**
 * `processing`: an asynchronous generation claimed by the queue consumer (a synchronous one goes
 * from pending straight to an outcome).
 */
export const generationStatus = pgEnum("generation_status", ["pending", "processing", "succeeded", "failed"]);

/** What the queue consumer needs of an asynchronous generation beyond the row's own columns. */
export interface QueuedRequest {
  filename?: string;
  quality?: number;
  autoEnhance: boolean;
  /** The project alias the image takes. */
  alias?: string;
  /** The flow whose row is written or touched, and the flow alias the image takes there. */
  flow?: { id: string; alias?: string };
  /** Where its webhook events go (services/generation-events.ts GenerationNotify). */
  notify?: { imageUrlBase: string; webhookUrl?: string; webhookEvents?: readonly WebhookEventName[] };
}

/** A generation's webhook events (services/webhooks/events.ts WEBHOOK_EVENTS). */
type WebhookEventName = "generation.started" | "generation.succeeded" | "generation.failed";

/** Milliseconds spent in each stage of a generation. */
export interface GenerationTimings {
  enhanceMs?: number;
  generateMs?: number;
  encodeMs?: number;
  storeMs?: number;
  totalMs?: number;
}

/** One text-to-image request and how it went; its image, once stored, points back to it (images.generationId). */
export const generations = pgTable(
  "generations",
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    apiKeyId: uuid()
      .notNull()
      .references(() => apiKeys.id, { onDelete: "restrict" }),
    status: generationStatus().notNull().default("pending"),
    originalPrompt: text().notNull(),
    finalPrompt: text(),
    template: text(),
    detectedLanguage: text(),
    aspectRatio: text().notNull(),
    outputFormat: text().notNull(),
    provider: text(),
    model: text(),
    errorCode: text(),
    errorMessage: text(),
    timings: jsonb().$type<GenerationTimings>().notNull().default({}),
    tokenUsage: jsonb().$type<TokenUsage>(),
    attempts: integer().notNull().default(0),
    /** The flow the generation continues (flows are lazy, so no foreign key: see flows.ts); null outside any flow. */
    flowId: uuid(),
    /** The client's own JSON object (the API limits it to MAX_META_BYTES; the check is a backstop). */
    meta: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    /** Times the generation was regenerated in place, keeping its image id. */
    regenerationCount: integer().notNull().default(0),
    /** Set on asynchronous generations (`Prefer: respond-async`): what the queue consumer runs. */
    queuedRequest: jsonb().$type<QueuedRequest>(),
    /** The budget reservation made at acceptance, settled or released by whoever finishes it. */
    budgetReservationId: uuid(),
    /** The quota window the accepted request was counted in, to refund it there. */
    quotaWindowStart: timestampTz(),
    /** When its quota was refunded (a failed or canceled asynchronous generation): never twice. */
    refundedAt: timestampTz(),
    /** When it was canceled while running: it runs to its end, and its image is discarded. */
    cancelRequestedAt: timestampTz(),
    createdAt: createdAt(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    completedAt: timestampTz(),
    deletedAt: timestampTz(),
  },
  (table) => [
    index("generations_api_key_created_idx").on(table.apiKeyId, table.createdAt.desc().nullsFirst()),
    index("generations_project_created_idx").on(table.projectId, table.createdAt.desc().nullsFirst()),
    // Maintenance looks for generations stuck in pending, oldest first: a handful among millions.
    index("generations_pending_created_idx").on(table.createdAt).where(sql`${table.status} = 'pending'`),
    // A flow's generations in order (the flow view), and its counts.
    index("generations_project_flow_created_idx")
      .on(table.projectId, table.flowId, table.createdAt)
      .where(sql`${table.flowId} is not null`),
    check("generations_meta_size", sql`octet_length(${table.meta}::text) <= 8192`),
  ],
);

export type Generation = typeof generations.$inferSelect;
