import type { z } from "@hono/zod-openapi";
import type { WebhookDelivery, WebhookEndpoint } from "../../db/schema";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { offsetPagination } from "../../lib/openapi";
import { authorizeProject } from "../../middleware/access";
import { recordAudit } from "../../services/audit";
import { attemptDelivery, findDelivery, listDeliveries } from "../../services/webhooks/deliveries";
import type { WebhookEventType } from "../../services/webhooks/events";
import { readWebhookEndpoint, rotateWebhookSecret, saveWebhookSettings } from "../../services/webhooks/settings";
import { requireWebhookUrl } from "../../services/webhooks/url-safety";
import type { AppRouteHandler } from "../create-app";
import type {
  DeliverySchema,
  getRoute,
  listDeliveriesRoute,
  putRoute,
  redeliverRoute,
  rotateSecretRoute,
} from "./v1-webhooks.routes";

export const getWebhookSettings: AppRouteHandler<typeof getRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const endpoint = await readWebhookEndpoint(c.var.services.db, caller.project.id);
  return c.json({ success: true as const, data: settingsView(endpoint) }, 200);
};

export const setWebhookSettings: AppRouteHandler<typeof putRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const body = c.req.valid("json");
  const url = requireWebhookUrl(body.url, c.var.config.environment);
  const { db, defer } = c.var.services;
  const endpoint = await saveWebhookSettings(db, caller.project.id, body);
  defer(() =>
    recordAudit(db, {
      action: "project.webhooks_updated",
      actorKeyId: caller.keyId,
      target: { type: "project", id: caller.project.id },
      organizationId: caller.organization.id,
      projectId: caller.project.id,
      client: clientInfo(c),
      // The host only: a receiver's path may carry a token of its own.
      metadata: { host: url.host, events: body.events.join(","), enabled: body.enabled },
    }),
  );
  return c.json({ success: true as const, data: settingsView(endpoint) }, 200);
};

export const rotateWebhookSecretHandler: AppRouteHandler<typeof rotateSecretRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { db, defer } = c.var.services;
  const { secret, endpoint } = await rotateWebhookSecret(db, caller.project.id, new Date());
  defer(() =>
    recordAudit(db, {
      action: "project.webhook_secret_rotated",
      actorKeyId: caller.keyId,
      target: { type: "project", id: caller.project.id },
      organizationId: caller.organization.id,
      projectId: caller.project.id,
      client: clientInfo(c),
      metadata: { rotation: endpoint.previousSecret !== null },
    }),
  );
  const data = {
    secret,
    createdAt: (endpoint.secretCreatedAt ?? new Date()).toISOString(),
    previousExpiresAt: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
  };
  return c.json({ success: true as const, data }, 201);
};

export const listWebhookDeliveries: AppRouteHandler<typeof listDeliveriesRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { limit, offset } = c.req.valid("query");
  const { deliveries, total } = await listDeliveries(c.var.services.db, caller.project.id, { limit, offset });
  return c.json(
    { success: true as const, data: deliveries.map(deliveryView), pagination: offsetPagination(total, limit, offset) },
    200,
  );
};

export const redeliverWebhook: AppRouteHandler<typeof redeliverRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { id } = c.req.valid("param");
  const { db } = c.var.services;
  const delivery = await findDelivery(db, caller.project.id, id);
  if (!delivery) throw new AppError("WEBHOOK_DELIVERY_NOT_FOUND", `No webhook delivery ${id} in this project`);
  await attemptDelivery({ db, environment: c.var.config.environment }, delivery.id, { redeliver: true });
  const after = (await findDelivery(db, caller.project.id, id)) ?? delivery;
  return c.json({ success: true as const, data: deliveryView(after) }, 200);
};

/** The settings as the API shows them: whether a secret exists, never the secret. */
function settingsView(endpoint: WebhookEndpoint | undefined) {
  return {
    url: endpoint?.url ?? null,
    events: (endpoint?.events ?? []) as WebhookEventType[],
    // A project may create its secret before saving a URL: nothing is sent until there is one.
    enabled: Boolean(endpoint?.url) && (endpoint?.enabled ?? false),
    disabledReason: endpoint?.disabledReason ?? null,
    secret: {
      exists: Boolean(endpoint?.secret),
      createdAt: endpoint?.secretCreatedAt?.toISOString() ?? null,
      previousExpiresAt: rotationEnd(endpoint)?.toISOString() ?? null,
    },
  };
}

/** When the replaced secret stops signing, while it still signs. */
function rotationEnd(endpoint: WebhookEndpoint | undefined): Date | undefined {
  const end = endpoint?.previousSecret ? endpoint.previousSecretExpiresAt : null;
  return end && end > new Date() ? end : undefined;
}

function deliveryView(delivery: WebhookDelivery): z.infer<typeof DeliverySchema> {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    event: delivery.eventType as WebhookEventType,
    url: delivery.url,
    state: delivery.state,
    attempts: delivery.attempts,
    responseStatus: delivery.lastStatusCode,
    latencyMs: delivery.lastLatencyMs,
    error: delivery.lastError,
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    payload: delivery.payload,
    createdAt: delivery.createdAt.toISOString(),
  };
}
