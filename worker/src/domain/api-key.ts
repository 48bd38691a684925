/**
 * API key format: `bnt_{type}_{secret}{checksum}`.
 *
 * - `type` is `mk` (master) or `pk` (project), so a key's power is visible at a glance and
 *   secret scanners can tell Banatie keys apart;
 * - `secret` is 43 base62 characters drawn from the CSPRNG (256 bits, at least 32 bytes);
 * - `checksum` is CRC-32 of everything before it, as 6 base62 characters, so a mistyped or
 *   made-up key is rejected without a database query.
 *
 * Only SHA-256 of the whole key and a short display prefix are ever stored.
 */

// Spelled with its extension: the Node tooling (npm run keys:recover) imports this module as Node
// resolves imports, and it must mint keys exactly as the Worker does.
import { sha256Hex } from "./hash.ts";

export type ApiKeyType = "master" | "project";

const TYPE_CODES = { master: "mk", project: "pk" } as const satisfies Record<ApiKeyType, string>;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^bnt_(mk|pk)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
/** `bnt_pk_` plus this many characters of the secret identify a key in listings and logs. */
const DISPLAY_SECRET_CHARS = 6;

/** Longest value accepted from a header before even looking at it. */
export const MAX_PRESENTED_KEY_LENGTH = 128;

function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      // 248 = 62 * 4: dropping larger bytes keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let value = crc32(body);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export interface GeneratedApiKey {
  /** The full key: shown to the user once, never stored. */
  plaintext: string;
  hash: string;
  displayPrefix: string;
}

export async function generateApiKey(type: ApiKeyType): Promise<GeneratedApiKey> {
  const body = `bnt_${TYPE_CODES[type]}_${randomBase62(SECRET_LENGTH)}`;
  const plaintext = body + checksum(body);
  return { plaintext, hash: await hashApiKey(plaintext), displayPrefix: displayPrefix(plaintext) };
}

export type ParsedApiKey = { ok: true; type: ApiKeyType; key: string } | { ok: false; reason: "format" | "checksum" };

/** Checks shape and checksum only; whether the key exists is the database's answer. */
export function parseApiKey(presented: string): ParsedApiKey {
  const match = presented.length <= MAX_PRESENTED_KEY_LENGTH ? KEY_PATTERN.exec(presented) : null;
  if (!match) return { ok: false, reason: "format" };
  const [, typeCode, secret, sum] = match;
  if (checksum(`bnt_${typeCode}_${secret}`) !== sum) return { ok: false, reason: "checksum" };
  return { ok: true, type: typeCode === "mk" ? "master" : "project", key: presented };
}

export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

export function displayPrefix(key: string): string {
  return key.slice(0, "bnt_pk_".length + DISPLAY_SECRET_CHARS);
}
