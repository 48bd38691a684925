/**
 * Temporary image URLs: `?expires=<unix seconds>&sig=<HMAC-SHA256 of path and expiry>`, signed
 * and verified by the Worker with URL_SIGNING_SECRET, as S3 presigned URLs are by S3. Nothing is
 * stored; a URL is valid until it expires, for anyone who has it.
 */

/** The longest a temporary URL may live: seven days, as S3 presigned URLs. */
export const MAX_TEMPORARY_URL_SECONDS = 7 * 24 * 60 * 60;

const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

const message = (path: string, expires: number) => new TextEncoder().encode(`${path}\n${expires}`);

function toBase64Url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[\w-]{43}$/.test(text)) return null;
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

export async function signPath(secret: string, path: string, expires: number): Promise<string> {
  return toBase64Url(await crypto.subtle.sign("HMAC", await hmacKey(secret), message(path, expires)));
}

export type SignatureCheck = "valid" | "expired" | "invalid";

/** Constant-time verification (crypto.subtle.verify) of a path's expiry and signature. */
export async function verifySignedPath(
  secret: string,
  path: string,
  expires: string,
  signature: string,
  now = Date.now(),
): Promise<SignatureCheck> {
  const expiresAt = /^\d{1,12}$/.test(expires) ? Number(expires) : Number.NaN;
  const sig = fromBase64Url(signature);
  if (Number.isNaN(expiresAt) || !sig) return "invalid";
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, message(path, expiresAt));
  if (!valid) return "invalid";
  return expiresAt * 1000 <= now ? "expired" : "valid";
}
