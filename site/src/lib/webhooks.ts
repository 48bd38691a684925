import type { Schema } from "./api-contract";
import { formatDate, formatMs } from "./format";

/** Whether the project has a signing secret, since when, and whether the one it replaced still signs (until when). */
export function secretStateText(secret: Schema<"WebhookSettings">["secret"], now: number = Date.now()): string {
  if (!secret.exists) return "No signing secret yet: rotate one before receivers can verify deliveries.";
  const since = `A signing secret exists, created ${formatDate(secret.createdAt)}.`;
  const previous = secret.previousExpiresAt;
  return previous && Date.parse(previous) > now
    ? `${since} The previous secret still signs too, until ${formatDate(previous)}.`
    : `${since} No previous secret signs any more.`;
}

/** A delivery's last answer: the receiver's status and how long it took, or why there was none. */
export function deliveryResponseText(
  delivery: Pick<Schema<"WebhookDelivery">, "responseStatus" | "latencyMs" | "error">,
): string {
  if (delivery.responseStatus === null) return delivery.error ? `no answer (${delivery.error})` : "not sent yet";
  return delivery.latencyMs === null
    ? `HTTP ${delivery.responseStatus}`
    : `HTTP ${delivery.responseStatus} in ${formatMs(delivery.latencyMs)}`;
}
