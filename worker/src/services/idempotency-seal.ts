/**
 * A stored answer is sealed (AES-256-GCM) under a key derived (HKDF-SHA-256) from the API key
 * its request presented. The database keeps API keys as SHA-256 only, so a dump of it cannot
 * open an answer, though the answer of a key creation holds the new key in plaintext; a replay
 * presents the same API key (records are scoped to it) and opens it. CPU only: no round trip.
 */
import { decodeBase64, encodeBase64 } from "../lib/base64";

/** Which answer a key opens: the presented API key, the record's API key id and its Idempotency-Key. */
export interface SealScope {
  presentedKey: string;
  apiKeyId: string;
  idempotencyKey: string;
}

/** The parts of an answer that are sealed; its status stays readable (it tells a finished record). */
export interface SealedParts {
  headers: Record<string, string>;
  body: string;
}

/** The scheme's name, first in every sealed value, so the scheme can change while old records live. */
const VERSION = "v1";
/** AES-GCM's 96-bit nonce, random per record: one key seals one answer, once per claim. */
const IV_BYTES = 12;

const utf8 = (text: string) => new TextEncoder().encode(text);

async function answerKey({ presentedKey, apiKeyId, idempotencyKey }: SealScope): Promise<CryptoKey> {
  const secret = await crypto.subtle.importKey("raw", utf8(presentedKey), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: utf8(apiKeyId),
      info: utf8(`banatie idempotent answer ${VERSION}\0${idempotencyKey}`),
    },
    secret,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** `v1.` then base64 of the IV followed by the ciphertext and its tag. */
export async function sealAnswer(parts: SealedParts, scope: SealScope): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(VERSION) },
    await answerKey(scope),
    utf8(JSON.stringify(parts)),
  );
  const sealed = new Uint8Array(IV_BYTES + ciphertext.byteLength);
  sealed.set(iv);
  sealed.set(new Uint8Array(ciphertext), IV_BYTES);
  return `${VERSION}.${encodeBase64(sealed)}`;
}

/** The sealed parts, or undefined when they cannot be opened (another scheme, another key, altered bytes). */
export async function openAnswer(sealed: string, scope: SealScope): Promise<SealedParts | undefined> {
  const prefix = `${VERSION}.`;
  if (!sealed.startsWith(prefix)) return undefined;
  try {
    const bytes = decodeBase64(sealed.slice(prefix.length));
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: utf8(VERSION) },
      await answerKey(scope),
      bytes.subarray(IV_BYTES),
    );
    return JSON.parse(new TextDecoder().decode(plaintext)) as SealedParts;
  } catch {
    return undefined;
  }
}
