import { createMiddleware } from "hono/factory";
import { sha256Hex } from "../domain/hash";
import { logFailure } from "../lib/log";
import {
  answerToStore,
  IDEMPOTENCY_KEY_HEADER,
  parseIdempotencyKey,
  releaseClaim,
  requestFingerprint,
  storeAnswer,
} from "../services/idempotency";
import type { HonoEnv } from "./env";

/**
 * `Idempotency-Key` on a spending POST: reads and checks the header, and leaves the fingerprint
 * for the key check (middleware/access.ts), which claims the key, replays a stored answer or
 * refuses (409, 422). Once the handler has answered, the answer of a request that started
 * executing (its key checked, within quota) is stored, whatever its status, as Stripe does;
 * a request refused before that gives the key back. The store is awaited before the answer
 * leaves, so a retry sent the moment it arrives finds it. Without the header nothing changes.
 * Put it last in a route's `middleware`, after `uploadLimit` (which hashes a multipart body).
 */
export const idempotency = createMiddleware<HonoEnv>(async function idempotency(c, next) {
  const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
  if (header === undefined) return next();
  const key = parseIdempotencyKey(header.trim());
  // A JSON body is small (the body limit holds it) and read once: the validator reuses this read.
  const bodySha256 = c.get("bodySha256") ?? c.req.arrayBuffer().then((body) => sha256Hex(new Uint8Array(body)));
  const request = { key, fingerprint: async () => requestFingerprint(c.req.method, c.req.path, await bodySha256) };
  c.set("idempotency", request);
  await next();

  const apiKeyId = c.get("idempotency")?.heldBy;
  if (!apiKeyId) return;
  const { db } = c.var.services;
  try {
    const answer = c.get("caller") ? await answerToStore(c.res) : undefined;
    // The key that won the claim is the key a replay must present: its answer is sealed under it.
    const presentedKey = c.get("presentedKey");
    if (answer && presentedKey) await storeAnswer(db, { presentedKey, apiKeyId, idempotencyKey: key }, answer);
    else await releaseClaim(db, apiKeyId, key);
  } catch (error) {
    // The answer still goes out; the claim stays until its lock runs out (see access.ts).
    logFailure("idempotent answer not stored", error, { requestId: c.get("requestId") });
  }
});
