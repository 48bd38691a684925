import { boolean, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { projects } from "./projects";

/**
 * A project's webhook settings and signing secrets, one row per project. The secrets are kept as
 * issued (`whsec_...`): signing needs them back, so they cannot be hashed like API keys.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  projectId: uuid()
    .primaryKey()
    .references(() => projects.id, { onDelete: "cascade" }),
  /** Null until settings are saved: a project may create its secret first. */
  url: text(),
  /** Event types sent to `url` (services/webhooks/events.ts). */
  events: text().array().notNull().default([]),
  enabled: boolean().notNull().default(true),
  /** Why the endpoint stopped receiving (a 410 from the receiver); cleared by saving the settings. */
  disabledReason: text(),
  secret: text(),
  secretCreatedAt: timestamp({ withTimezone: true }),
  /** The secret a rotation replaced, still signing alongside the new one until it expires. */
  previousSecret: text(),
  previousSecretExpiresAt: timestamp({ withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
