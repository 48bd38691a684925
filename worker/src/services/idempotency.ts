/**
 * `Idempotency-Key` on the POSTs that spend or create, after the IETF draft
 * (draft-ietf-httpapi-idempotency-key-header) and Stripe. The key is claimed in the same
 * statement that checks the API key (services/auth.ts), so the first request pays no extra round
 * trip for it; the answer is stored before it is sent, so a retry right after it sees it. The
 * stored answer is sealed under the API key that asked (services/idempotency-seal.ts).
 */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { sha256Hex } from "../domain/hash";
import { IDEMPOTENCY_MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH } from "../domain/limits";
import { AppError } from "../lib/errors";
import { openAnswer, type SealScope, sealAnswer } from "./idempotency-seal";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed";

/** Printable ASCII (space to tilde): what an sf-string may hold, and what Stripe's keys are. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The key a header value names: the draft's sf-string (`"8e03978e-..."`, with `\"` and `\\`
 * escapes) or, as Stripe takes it, the bare value. Either way 1 to 255 printable ASCII
 * characters; anything else is a 400 naming the header.
 */
export function parseIdempotencyKey(value: string): string {
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const key = quoted ? value.slice(1, -1).replace(/\\(["\\])/g, "$1") : value;
  const invalid = (message: string) =>
    new AppError("VALIDATION_ERROR", `${IDEMPOTENCY_KEY_HEADER}: ${message}`, {
      errors: [{ field: IDEMPOTENCY_KEY_HEADER, message }],
    });
  if (key.length === 0) throw invalid("must not be empty");
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw invalid(`at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  if (!PRINTABLE_ASCII.test(key)) throw invalid("printable ASCII characters only");
  return key;
}

/** Bytes as lower-case hex, as domain/hash.ts writes a SHA-256. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** What tells two requests apart: method, path and the body's SHA-256 as received. */
export function requestFingerprint(method: string, path: string, bodySha256Hex: string): Promise<string> {
  return sha256Hex(`${method} ${path} ${bodySha256Hex}`);
}

/** A request's claim on its key, made with the key check. */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
  /** How long the claim holds while the request runs: the longest a request may take. */
  lockSeconds: number;
}

/** An answer as stored and replayed. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The record the key had before this request's statement, as services/auth.ts reads it. */
export interface EarlierRecord {
  fingerprint: string;
  status: "in_progress" | "done";
  stale: boolean;
  response_status: number | null;
  /** Headers and body, sealed: see services/idempotency-seal.ts. */
  response_sealed: string | null;
}

/** A finished request's answer as the record holds it: to be opened with the presented key. */
export interface SealedAnswer {
  status: number;
  sealed: string;
}

export type ClaimOutcome =
  | { kind: "claimed" }
  | { kind: "in-progress" }
  | { kind: "mismatch" }
  | { kind: "replay"; answer: SealedAnswer };

/**
 * What a claim that did not win means. A record the statement could not see, or saw expired or
 * abandoned, was claimed by a request running alongside this one: it is still in progress.
 */
export function claimOutcome(claimed: boolean, earlier: EarlierRecord | null, fingerprint: string): ClaimOutcome {
  if (claimed) return { kind: "claimed" };
  if (!earlier || earlier.stale) return { kind: "in-progress" };
  if (earlier.fingerprint !== fingerprint) return { kind: "mismatch" };
  if (earlier.status === "in_progress" || earlier.response_status === null) return { kind: "in-progress" };
  return { kind: "replay", answer: { status: earlier.response_status, sealed: earlier.response_sealed ?? "" } };
}

/**
 * The answer a replay sends, opened with the key the replay presented. One that cannot be opened
 * (altered in the database, or sealed by a scheme this version does not know) is refused as a
 * mismatch rather than run again: its request ran, and running it twice is what the key prevents.
 */
export async function openReplay(answer: SealedAnswer, scope: SealScope): Promise<StoredAnswer> {
  const parts = await openAnswer(answer.sealed, scope);
  if (!parts) {
    throw new AppError(
      "IDEMPOTENCY_MISMATCH",
      `The stored answer of this ${IDEMPOTENCY_KEY_HEADER} cannot be read; use a new key for a new request`,
    );
  }
  return { status: answer.status, ...parts };
}

/** The error a claim that lost answers with, when it is not a replay. */
export function claimRefusal(outcome: ClaimOutcome): AppError | undefined {
  if (outcome.kind === "in-progress") {
    return new AppError(
      "IDEMPOTENCY_IN_PROGRESS",
      `A request with this ${IDEMPOTENCY_KEY_HEADER} is still running; retry once it has finished`,
      { headers: { "Retry-After": "1" } },
    );
  }
  if (outcome.kind === "mismatch") {
    return new AppError(
      "IDEMPOTENCY_MISMATCH",
      `This ${IDEMPOTENCY_KEY_HEADER} was used with another request (method, path or body); use a new key for a new request`,
    );
  }
  return undefined;
}

/** Headers a replay repeats: what a client reads of the answer, not per-request ones (request id, quota). */
const REPLAYED_HEADERS = /^(content-type|location|cache-control|retry-after|preference-applied|x-budget-.*)$/i;

/** The parts of an answer a replay repeats; undefined when its body is over the cap (it is then not kept). */
export async function answerToStore(response: Response): Promise<StoredAnswer | undefined> {
  const body = await response.clone().text();
  if (new TextEncoder().encode(body).byteLength > IDEMPOTENCY_MAX_BODY_BYTES) return undefined;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (REPLAYED_HEADERS.test(name)) headers[name] = value;
  });
  return { status: response.status, headers, body };
}

/**
 * Stores the answer of the request that holds the claim, sealed under the key it presented, to
 * be replayed until the record expires.
 */
export async function storeAnswer(db: Database, scope: SealScope, answer: StoredAnswer): Promise<void> {
  const { apiKeyId, idempotencyKey } = scope;
  const responseSealed = await sealAnswer({ headers: answer.headers, body: answer.body }, scope);
  await db
    .update(idempotencyKeys)
    .set({ status: "done", responseStatus: answer.status, responseSealed })
    .where(
      and(
        eq(idempotencyKeys.apiKeyId, apiKeyId),
        eq(idempotencyKeys.key, idempotencyKey),
        eq(idempotencyKeys.status, "in_progress"),
      ),
    );
}

/**
 * Gives the key back: the request was refused before it started (quota, key) or its answer is
 * too large to keep, so a retry with the same key runs as if it were the first.
 */
export async function releaseClaim(db: Database, apiKeyId: string, key: string): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.apiKeyId, apiKeyId), eq(idempotencyKeys.key, key), eq(idempotencyKeys.status, "in_progress")));
}

/**
 * Thrown by the key check when the key's first request has an answer: the app's error handler
 * sends it again, marked as a replay (`headers`), and the handler never runs.
 */
export class IdempotentReplay extends Error {
  readonly answer: StoredAnswer;

  constructor(answer: StoredAnswer) {
    super("idempotent replay");
    this.name = "IdempotentReplay";
    this.answer = answer;
  }

  get headers(): Record<string, string> {
    return { ...this.answer.headers, [IDEMPOTENT_REPLAYED_HEADER]: "true" };
  }
}
