/**
 * A generation's own webhook (`webhook`, `webhookEvents` on the generating requests): where its
 * events go instead of the project's endpoint, and which of them.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { imageUrlBase } from "../../delivery/image-urls";
import { MAX_WEBHOOK_URL_LENGTH } from "../../domain/limits";
import type { HonoEnv } from "../../middleware/env";
import type { GenerationNotify } from "../../services/generation-events";
import { WEBHOOK_EVENTS, type WebhookEventType } from "../../services/webhooks/events";
import { requireWebhookUrl } from "../../services/webhooks/url-safety";

/** The request body's webhook fields. */
export const requestWebhookFields = {
  webhook: z.string().max(MAX_WEBHOOK_URL_LENGTH).optional().openapi({
    description:
      "Where this generation's events are POSTed instead of the project's webhook endpoint (GET /api/v1/webhooks), signed with the project's secret. The same URL rules apply (https, a public host; http://127.0.0.1 in development); a URL Banatie would not send to is 400 naming `webhook`, before anything is spent.",
    example: "https://example.com/hooks/banatie",
  }),
  webhookEvents: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .refine((events) => new Set(events).size === events.length, "must not repeat an event")
    .optional()
    .openapi({
      description:
        "Which of this generation's events are sent (to `webhook`, or to the project's endpoint among those it subscribes to); all of them when omitted. A synchronous request (no Prefer header) sends no generation.started.",
      example: ["generation.succeeded", "generation.failed"],
    }),
};

/**
 * Where the request's generation reports its events. Checked before the key: a refused URL spends
 * nothing.
 */
export function requestNotify(
  c: Context<HonoEnv>,
  body: { webhook?: string; webhookEvents?: readonly WebhookEventType[] },
): GenerationNotify {
  const webhookUrl =
    body.webhook === undefined ? undefined : requireWebhookUrl(body.webhook, c.var.config.environment, "webhook");
  return {
    imageUrlBase: imageUrlBase(c),
    ...(webhookUrl ? { webhookUrl: webhookUrl.href } : {}),
    ...(body.webhookEvents ? { webhookEvents: body.webhookEvents } : {}),
  };
}
