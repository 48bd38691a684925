/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,` followed by the base64
 * HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64-decoded part of
 * the `whsec_` secret. Several secrets (during a rotation) give several signatures, space-separated.
 */

const SECRET_PREFIX = "whsec_";
/** 32 random bytes: the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** A new signing secret, `whsec_` and the base64 of random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
}

/** A new message id (`webhook-id`), kept by every attempt of one message. */
export function generateMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}

async function sign(secret: string, content: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(secret.slice(SECRET_PREFIX.length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(content));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of one attempt, signed with each of `secrets`. */
export async function webhookHeaders(
  secrets: readonly string[],
  message: { id: string; timestamp: Date; body: string },
): Promise<Record<string, string>> {
  const seconds = String(Math.floor(message.timestamp.getTime() / 1000));
  const content = `${message.id}.${seconds}.${message.body}`;
  const signatures = await Promise.all(secrets.map((secret) => sign(secret, content)));
  return { "webhook-id": message.id, "webhook-timestamp": seconds, "webhook-signature": signatures.join(" ") };
}
