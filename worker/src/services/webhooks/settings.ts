import { eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type WebhookEndpoint, webhookEndpoints } from "../../db/schema";
import { WEBHOOK_SECRET_OVERLAP_MS } from "../../domain/limits";
import type { WebhookEventType } from "./events";
import { generateWebhookSecret } from "./signing";

export interface WebhookSettingsInput {
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
}

/** The project's webhook endpoint, or undefined before anything was saved. */
export async function readWebhookEndpoint(db: Database, projectId: string): Promise<WebhookEndpoint | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.projectId, projectId));
  return row;
}

/** Saves the settings; saving re-enables an endpoint a 410 disabled (unless `enabled` is false). */
export async function saveWebhookSettings(
  db: Database,
  projectId: string,
  input: WebhookSettingsInput,
): Promise<WebhookEndpoint> {
  const values = { url: input.url, events: input.events, enabled: input.enabled, disabledReason: null, updatedAt: sql`now()` };
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ projectId, ...values })
    .onConflictDoUpdate({ target: webhookEndpoints.projectId, set: values })
    .returning();
  return row as WebhookEndpoint;
}

/**
 * Creates the project's signing secret, or replaces it: the replaced one keeps signing alongside
 * for WEBHOOK_SECRET_OVERLAP_MS, so receivers can switch without missing a message. One statement,
 * so two rotations at once cannot lose a secret that is still in use.
 */
export async function rotateWebhookSecret(
  db: Database,
  projectId: string,
  now: Date,
): Promise<{ secret: string; endpoint: WebhookEndpoint }> {
  const secret = generateWebhookSecret();
  const overlapEnds = new Date(now.getTime() + WEBHOOK_SECRET_OVERLAP_MS);
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ projectId, secret, secretCreatedAt: now })
    .onConflictDoUpdate({
      target: webhookEndpoints.projectId,
      set: {
        secret,
        secretCreatedAt: now,
        previousSecret: sql`${webhookEndpoints.secret}`,
        previousSecretExpiresAt: sql`case when ${webhookEndpoints.secret} is null then null else ${overlapEnds.toISOString()}::timestamptz end`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return { secret, endpoint: row as WebhookEndpoint };
}

/** The secrets that sign a message sent at `now`: the current one and, during a rotation, the previous one. */
export function activeSecrets(endpoint: WebhookEndpoint | null | undefined, now: Date): string[] {
  if (!endpoint?.secret) return [];
  const previous = endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now;
  return previous && endpoint.previousSecret ? [endpoint.secret, endpoint.previousSecret] : [endpoint.secret];
}

/** Stops deliveries to the project's endpoint until its settings are saved again: a statement, to batch with others. */
export function disableWebhookEndpoint(db: Database, projectId: string, reason: string) {
  return db
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, updatedAt: sql`now()` })
    .where(eq(webhookEndpoints.projectId, projectId));
}
