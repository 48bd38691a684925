/**
 * SHA-256 as lower-case hex, of bytes or of a string's UTF-8: how API keys are stored and how
 * image contents and variants are identified. Here, at the bottom, because the key format needs it.
 */
export async function sha256Hex(input: Uint8Array | string): Promise<string> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  // Typed for both the Workers and the DOM library (the Node tooling checks this file too).
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
