/**
 * Signed image URLs, verified by the Worker with URL_SIGNING_SECRET as S3 checks presigned URLs
 * and imgproxy its signatures. Nothing is stored.
 * - Temporary URLs: `?expires=<unix seconds>&sig=<HMAC-SHA256 of path and expiry>`.
 * - Transformation URLs: the HMAC also covers the canonical options (see canonicalOptions), so a
 *   signature is valid for exactly one variant; `expires` is optional for them.
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

/** Unchanged for plain temporary URLs; options (when any) add a third line. */
const message = (path: string, expires: number | null, options: string) =>
  new TextEncoder().encode(options ? `${path}\n${expires ?? ""}\n${options}` : `${path}\n${expires}`);

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

export async function signPath(secret: string, path: string, expires: number | null, options = ""): Promise<string> {
  if (expires === null && !options) throw new TypeError("A temporary URL needs an expiry");
  return toBase64Url(await crypto.subtle.sign("HMAC", await hmacKey(secret), message(path, expires, options)));
}

export type SignatureCheck = "valid" | "expired" | "invalid";

/**
 * Constant-time verification (crypto.subtle.verify) of a path's signature, expiry and, for
 * transformations, canonical options. Without options an expiry is required. `now` (milliseconds,
 * as Date.now) is the clock the expiry is read against; tests pass their own.
 */
export async function verifySignedPath(
  secret: string,
  path: string,
  expires: string,
  signature: string,
  { now = Date.now, options = "" }: { now?: () => number; options?: string } = {},
): Promise<SignatureCheck> {
  const expiresAt = expires === "" && options ? null : /^\d{1,12}$/.test(expires) ? Number(expires) : Number.NaN;
  const sig = fromBase64Url(signature);
  if (Number.isNaN(expiresAt) || !sig) return "invalid";
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, message(path, expiresAt, options));
  if (!valid) return "invalid";
  return expiresAt !== null && expiresAt * 1000 <= now() ? "expired" : "valid";
}
