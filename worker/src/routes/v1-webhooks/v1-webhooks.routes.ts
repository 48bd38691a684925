import { createRoute, z } from "@hono/zod-openapi";
import { MAX_LIST_OFFSET, MAX_PAGE_SIZE, MAX_WEBHOOK_URL_LENGTH, V1_DEFAULT_PAGE_SIZE } from "../../domain/limits";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  offsetListEnvelope,
  problemResponse,
  successEnvelope,
} from "../../lib/openapi";
import { access } from "../../middleware/access";
import { WEBHOOK_EVENTS } from "../../services/webhooks/events";

const webhookKey = { middleware: [access.project({ rateLimited: false })], security: keySecurity, tags: ["Webhooks"] };

export const SettingsBody = z
  .object({
    url: z.string().max(MAX_WEBHOOK_URL_LENGTH).openapi({
      description:
        "Where events are POSTed: https on port 443 or 8443, a public host (no IP of a private, loopback, link-local or shared range, no localhost, .local or .internal), no user name or password. In development, http://127.0.0.1:<port> and http://localhost:<port> too.",
      example: "https://example.com/hooks/banatie",
    }),
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1)
      .max(WEBHOOK_EVENTS.length)
      .refine((events) => new Set(events).size === events.length, "must not repeat an event")
      .openapi({ description: "The events sent to `url`", example: ["generation.succeeded", "generation.failed"] }),
    enabled: z
      .boolean()
      .default(true)
      .openapi({ description: "Saving with true (the default) re-enables an endpoint a 410 disabled" }),
  })
  .strict();

const SettingsView = z
  .object({
    url: z.string().nullable().openapi({ description: "Null until the settings are saved" }),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().openapi({ description: "Why deliveries stopped (the receiver answered 410)" }),
    secret: z.object({
      exists: z.boolean().openapi({ description: "The secret itself is shown once, by POST /api/v1/webhooks/secret" }),
      createdAt: z.string().datetime().nullable(),
      previousExpiresAt: z
        .string()
        .datetime()
        .nullable()
        .openapi({ description: "During a rotation: until then, deliveries carry the previous secret's signature too" }),
    }),
  })
  .openapi("WebhookSettings");

const SecretView = z
  .object({
    secret: z
      .string()
      .openapi({ description: "Shown only in this answer: store it now", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    createdAt: z.string().datetime(),
    previousExpiresAt: z
      .string()
      .datetime()
      .nullable()
      .openapi({ description: "When the replaced secret stops signing; null on the first secret" }),
  })
  .openapi("WebhookSecret");

export const DeliverySchema = z
  .object({
    id: z.string().uuid(),
    messageId: z.string().openapi({
      description: "The `webhook-id` header, the same for every attempt",
      example: "msg_2b7d1f0c9a8e4d6f8b1a3c5e7d9f0a2b",
    }),
    event: z.enum(WEBHOOK_EVENTS),
    url: z.string(),
    state: z.enum(["pending", "succeeded", "failed"]).openapi({ description: "pending: another attempt is due" }),
    attempts: z.number().int(),
    responseStatus: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The last attempt's HTTP status; null without an answer" }),
    latencyMs: z.number().int().nullable().openapi({ description: "How long the last attempt took" }),
    error: z.string().nullable().openapi({ description: "Why the last attempt failed, when the status does not say" }),
    lastAttemptAt: z.string().datetime().nullable(),
    nextAttemptAt: z.string().datetime().nullable(),
    payload: z.object({ type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }),
    createdAt: z.string().datetime(),
  })
  .openapi("WebhookDelivery");

const settingsResponse = {
  description: "The project's webhook settings",
  content: { "application/json": { schema: successEnvelope(SettingsView) } },
};

export const getRoute = createRoute({
  method: "get",
  path: "/api/v1/webhooks",
  operationId: "getWebhookSettings",
  summary: "The project's webhook endpoint and events",
  ...webhookKey,
  responses: { 200: settingsResponse, ...keyErrorResponses, ...commonErrorResponses },
});

export const putRoute = createRoute({
  method: "put",
  path: "/api/v1/webhooks",
  operationId: "setWebhookSettings",
  summary: "Set the project's webhook endpoint and events",
  description: "Replaces the settings and re-enables an endpoint a 410 disabled. The URL is checked again before every attempt.",
  ...webhookKey,
  request: { body: { content: { "application/json": { schema: SettingsBody } }, required: true } },
  responses: {
    200: settingsResponse,
    400: problemResponse(
      "A URL Banatie will not send to, or an unknown event (VALIDATION_ERROR, naming the field); nothing is saved",
    ),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const rotateSecretRoute = createRoute({
  method: "post",
  path: "/api/v1/webhooks/secret",
  operationId: "rotateWebhookSecret",
  summary: "Create or rotate the signing secret (shown once)",
  description:
    "Answers a new `whsec_...` secret, shown only here. The secret it replaces keeps signing for 24 hours: meanwhile every delivery carries both signatures in `webhook-signature`.",
  ...webhookKey,
  responses: {
    201: { description: "The new secret", content: { "application/json": { schema: successEnvelope(SecretView) } } },
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(V1_DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).max(MAX_LIST_OFFSET).default(0),
});

export const listDeliveriesRoute = createRoute({
  method: "get",
  path: "/api/v1/webhooks/deliveries",
  operationId: "listWebhookDeliveries",
  summary: "The project's webhook deliveries, newest first",
  ...webhookKey,
  request: { query: ListQuery },
  responses: {
    200: { description: "A page of deliveries", content: { "application/json": { schema: offsetListEnvelope(DeliverySchema) } } },
    400: problemResponse("limit or offset out of range (VALIDATION_ERROR, naming the field)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const redeliverRoute = createRoute({
  method: "post",
  path: "/api/v1/webhooks/deliveries/{id}/redeliver",
  operationId: "redeliverWebhook",
  summary: "Send a delivery again now",
  description:
    "One attempt, now, with the same `webhook-id` (receivers drop what they have seen) and a new timestamp and signature; answers the delivery with that attempt's outcome.",
  ...webhookKey,
  request: { params: z.object({ id: z.string().uuid().openapi({ description: "The delivery's id" }) }) },
  responses: {
    200: {
      description: "The delivery after the attempt",
      content: { "application/json": { schema: successEnvelope(DeliverySchema) } },
    },
    400: problemResponse("The id is not a UUID (VALIDATION_ERROR, naming the field)"),
    404: problemResponse("No delivery of this project has that id (WEBHOOK_DELIVERY_NOT_FOUND)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
