import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";
import { projects } from "./projects";

/** The payload a delivery sends: small, never image bytes (services/webhooks/events.ts). */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * One webhook message and its attempts: `messageId` is the `webhook-id` every attempt carries,
 * so a receiver can drop duplicates; the last attempt's outcome is kept on the row.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    messageId: text().notNull().unique(),
    eventType: text().notNull(),
    /** Where it is sent: the project's endpoint, or the URL the request named. */
    url: text().notNull(),
    /** The URL came with the request, not from the project's settings (a 410 then disables nothing). */
    override: boolean().notNull().default(false),
    payload: jsonb().$type<WebhookPayload>().notNull(),
    /** pending (an attempt is due), succeeded, or failed (no attempt left). */
    state: text().$type<"pending" | "succeeded" | "failed">().notNull().default("pending"),
    attempts: integer().notNull().default(0),
    lastStatusCode: integer(),
    lastLatencyMs: integer(),
    /** Why the last attempt failed without an HTTP status (timeout, refused URL, network). */
    lastError: text(),
    lastAttemptAt: timestamp({ withTimezone: true }),
    nextAttemptAt: timestamp({ withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    index("webhook_deliveries_project_created_idx").on(table.projectId, table.createdAt),
    // The maintenance prunes the oldest deliveries of every project.
    index("webhook_deliveries_created_idx").on(table.createdAt),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
