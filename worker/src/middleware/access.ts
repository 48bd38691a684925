import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { displayPrefix, hashApiKey, parseApiKey } from "../domain/api-key";
import type { AccessPolicy, Caller, ProjectCaller, QuotaState } from "../lib/access-types";
import { type ClientInfo, clientAddressBlock, clientInfo } from "../lib/client-address";
import { AppError, type ErrorCode } from "../lib/errors";
import { AUTH_THROTTLE_SECONDS } from "../rate-limit/auth-throttle";
import { recordAudit } from "../services/audit";
import { checkApiKey, type KeyCheck } from "../services/auth";
import { claimRefusal, IdempotentReplay, openReplay } from "../services/idempotency";
import { generationBudgetMs } from "../services/maintenance/stuck-generations";
import type { HonoEnv } from "./env";

const BURST_RETRY_SECONDS = 10;

/** The access middleware of every endpoint, so the guard can tell declared endpoints apart. */
const accessMiddleware = new WeakSet<MiddlewareHandler>();

/** `X-API-Key: bnt_...` or `Authorization: Bearer bnt_...`. */
function presentedKey(c: Context<HonoEnv>): string | undefined {
  const header = c.req.header("X-API-Key");
  if (header !== undefined) return header.trim();
  const authorization = c.req.header("Authorization");
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  return bearer ? bearer[1] : authorization !== undefined ? authorization.trim() : undefined;
}

/** Failures are counted per client (an IPv6 client by its /64); clients without an address share a budget. */
function throttleKey(client: ClientInfo): string {
  return client.ip ? clientAddressBlock(client.ip) : "unknown";
}

/** How long a key that authenticated stays exempt from its address's throttle, in this isolate. */
const VOUCHED_KEY_MS = 10 * 60 * 1000;
const MAX_VOUCHED_KEYS = 10_000;
/** Hashes of keys that authenticated here lately, with when that stops counting (epoch ms). */
const vouchedKeys = new Map<string, number>();

function vouchFor(hash: string): void {
  vouchedKeys.delete(hash);
  vouchedKeys.set(hash, Date.now() + VOUCHED_KEY_MS);
  if (vouchedKeys.size > MAX_VOUCHED_KEYS) vouchedKeys.delete(vouchedKeys.keys().next().value as string);
}

async function isVouchedFor(key: string): Promise<boolean> {
  const until = vouchedKeys.get(await hashApiKey(key));
  return until !== undefined && until > Date.now();
}

function authThrottled(retryAfterSeconds: number): AppError {
  return new AppError("AUTH_THROTTLED", "Too many failed authentication attempts from this client; wait a minute", {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

/**
 * Refuses a client that is over its failed-authentication budget, before its key (or any other
 * credential) is looked up: a throttled guesser costs no database work. A well-formed key that
 * authenticated in this isolate lately still gets through, so failures from others behind the
 * same address (a NAT, a proxy) do not lock out a working integration; guessers have no such key.
 */
export async function refuseThrottledClient(c: Context<HonoEnv>, wellFormedKey?: string): Promise<void> {
  const seconds = await c.var.services.authThrottle.throttledFor(throttleKey(clientInfo(c)));
  if (seconds > 0 && !(wellFormedKey && (await isVouchedFor(wellFormedKey)))) throw authThrottled(seconds);
}

/** Counts a failed authentication of this client; throws 429 AUTH_THROTTLED once it is over budget. */
export async function countFailedAuthentication(c: Context<HonoEnv>): Promise<void> {
  if (!(await c.var.services.authThrottle.recordFailure(throttleKey(clientInfo(c))))) {
    throw authThrottled(AUTH_THROTTLE_SECONDS);
  }
}

/**
 * Rejects an authentication attempt. Repeated failures from one client are throttled (429)
 * before they can be used to probe keys; below that, well-formed keys that failed the
 * database check are recorded in the audit trail (after the response).
 */
async function rejectAuthentication(
  c: Context<HonoEnv>,
  code: ErrorCode,
  detail: string,
  audit?: { reason: string; keyId?: string; prefix?: string },
): Promise<never> {
  await countFailedAuthentication(c);
  const client = clientInfo(c);
  const { db, defer } = c.var.services;
  if (audit) {
    defer(() =>
      recordAudit(db, {
        action: "auth.failed",
        target: audit.keyId ? { type: "api_key", id: audit.keyId } : undefined,
        client,
        metadata: { reason: audit.reason, prefix: audit.prefix ?? null, path: c.req.path },
      }),
    );
  }
  const error = code === "MISSING_API_KEY" ? "" : `, error="invalid_token", error_description="${code}"`;
  throw new AppError(code, detail, { headers: { "WWW-Authenticate": `Bearer realm="banatie"${error}` } });
}

function declare(policy: AccessPolicy): MiddlewareHandler<HonoEnv> {
  const middleware = createMiddleware<HonoEnv>(async (c, next) => {
    c.set("access", policy);
    if (policy.kind !== "public") {
      const key = presentedKey(c);
      const parsed = key ? parseApiKey(key) : undefined;
      await refuseThrottledClient(c, parsed?.ok ? parsed.key : undefined);
      if (!key || !parsed) {
        await rejectAuthentication(c, "MISSING_API_KEY", "Send your API key in the X-API-Key header (or Authorization: Bearer)");
        return;
      }
      if (!parsed.ok) {
        // Shape and checksum are checked here, so a mistyped or made-up key never costs a query.
        const why =
          parsed.reason === "checksum" ? "its checksum does not match (mistyped?)" : "it is not a Banatie key (bnt_...)";
        await rejectAuthentication(c, "MALFORMED_API_KEY", `The API key is malformed: ${why}`);
        return;
      }
      const required = policy.kind === "master" ? "master" : policy.kind === "project" ? "project" : parsed.type;
      if (parsed.type !== required) {
        throw new AppError("INSUFFICIENT_SCOPE", `This endpoint needs a ${required} key; a ${parsed.type} key was sent`);
      }
      c.set("presentedKey", parsed.key);
    }
    await next();
  });
  accessMiddleware.add(middleware as MiddlewareHandler);
  return middleware;
}

/**
 * Declares who may call an endpoint; put it in the route's `middleware`. It checks the key's
 * presence, shape, checksum and type without touching the database; the handler then calls
 * `authorize` (after request validation, so bad input never spends quota).
 */
export const access = {
  public: () => declare({ kind: "public" }),
  anyKey: () => declare({ kind: "any-key" }),
  master: () => declare({ kind: "master" }),
  project: (options: { rateLimited: boolean }) => declare({ kind: "project", rateLimited: options.rateLimited }),
};

/** Deny by default: an endpoint without an `access` declaration answers to nobody. */
export const denyUndeclaredAccess = createMiddleware<HonoEnv>(async (c, next) => {
  const routes = matchedRoutes(c);
  const isEndpoint = routes.some((route) => route.method !== "ALL");
  if (isEndpoint && !routes.some((route) => accessMiddleware.has(route.handler))) {
    throw new AppError("ACCESS_NOT_DECLARED", "This endpoint does not declare who may call it, so nobody may");
  }
  await next();
});

function secondsUntil(moment: Date, now = new Date()): number {
  return Math.max(0, Math.ceil((moment.getTime() - now.getTime()) / 1000));
}

export function quotaHeaders(quota: QuotaState, now = new Date()): Record<string, string> {
  const remaining = Math.max(0, quota.limit - quota.used);
  const resetSeconds = secondsUntil(quota.resetAt, now);
  return {
    "X-RateLimit-Limit": String(quota.limit),
    "X-RateLimit-Remaining": String(remaining),
    "X-RateLimit-Reset": quota.resetAt.toISOString(),
    "RateLimit-Policy": `"hourly";q=${quota.limit};w=3600`,
    RateLimit: `"hourly";r=${remaining};t=${resetSeconds}`,
  };
}

/** Why a key that passed the shape check is still refused, by what the database says of it. */
const KEY_REJECTIONS: Record<Exclude<KeyCheck["status"], "valid">, { code: ErrorCode; detail: string }> = {
  unknown: { code: "INVALID_API_KEY", detail: "The API key is not known" },
  revoked: { code: "REVOKED_API_KEY", detail: "The API key has been revoked" },
  expired: { code: "EXPIRED_API_KEY", detail: "The API key has expired; create a new one" },
};

/**
 * Refuses a caller over its hourly quota (429 with the quota headers and Retry-After); otherwise
 * sets the quota headers on the answer.
 */
function enforceQuota(c: Context<HonoEnv>, caller: Caller): void {
  const { db, defer } = c.var.services;
  const headers = quotaHeaders(caller.quota);
  if (caller.quota.used > caller.quota.limit) {
    // The counter keeps counting refusals, so the first one of a window is recorded once.
    if (caller.quota.used === caller.quota.limit + 1) {
      defer(() =>
        recordAudit(db, {
          action: "quota.exceeded",
          actorKeyId: caller.keyId,
          target: { type: "api_key", id: caller.keyId },
          organizationId: caller.organization?.id,
          projectId: caller.project?.id,
          client: clientInfo(c),
          metadata: { limit: caller.quota.limit, windowStart: caller.quota.windowStart.toISOString() },
        }),
      );
    }
    throw new AppError(
      "RATE_LIMIT_EXCEEDED",
      `This key has used its ${caller.quota.limit} requests for this hour; the quota resets at ${caller.quota.resetAt.toISOString()}`,
      { headers: { ...headers, "Retry-After": String(secondsUntil(caller.quota.resetAt)) } },
    );
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}

export interface AuthorizeOptions {
  /**
   * Told the key's hash once the burst shield has let the key through, just before the key check
   * starts, so work started then runs beside it (see authorizeProjectAlongside).
   */
  alongside?: (keyHash: string) => void;
  /**
   * False for a request of a rate-limited endpoint that spends nothing (a quote): the key is
   * checked as usual, the hourly quota is neither spent nor enforced.
   */
  spendQuota?: boolean;
}

/**
 * Authenticates the presented key in one database round trip, spending one request of its
 * hourly quota on rate-limited endpoints, and returns the caller. Call it first in a handler.
 */
export async function authorize(c: Context<HonoEnv>, options: AuthorizeOptions = {}): Promise<Caller> {
  const policy = c.get("access");
  const key = c.get("presentedKey");
  if (!policy || policy.kind === "public" || !key) {
    throw new Error(`authorize() on ${c.req.method} ${c.req.path}, which declares no key policy`);
  }
  const { db, burstLimiter } = c.var.services;
  const hash = await hashApiKey(key);
  const rateLimited = policy.kind === "project" && policy.rateLimited && options.spendQuota !== false;
  // Every keyed endpoint, quota-spending or not: a flood from one key stops before the database.
  if (!(await burstLimiter.allow(`burst:${hash}`))) {
    throw new AppError("TOO_MANY_REQUESTS", "Too many requests with this key at once; slow down", {
      headers: { "Retry-After": String(BURST_RETRY_SECONDS) },
    });
  }

  const idempotent = c.get("idempotency");
  const claim = idempotent && {
    key: idempotent.key,
    fingerprint: await idempotent.fingerprint(),
    // Held for as long as a request may run; past that its request is gone and a retry takes over.
    lockSeconds: Math.ceil(generationBudgetMs(c.var.config.gemini) / 1000),
  };
  options.alongside?.(hash);
  const check = await checkApiKey(db, hash, { spendFor: rateLimited ? "project" : undefined, claim });
  if (check.status !== "valid") {
    const { code, detail } = KEY_REJECTIONS[check.status];
    const keyId = check.status === "unknown" ? undefined : check.keyId;
    return rejectAuthentication(c, code, detail, { reason: check.status, keyId, prefix: displayPrefix(key) });
  }

  const { caller } = check;
  if (idempotent && check.idempotency) {
    // A replay or a refusal spent nothing, so it is answered whatever the quota says.
    const outcome = check.idempotency;
    if (outcome.kind === "replay") {
      const scope = { presentedKey: key, apiKeyId: caller.keyId, idempotencyKey: idempotent.key };
      throw new IdempotentReplay(await openReplay(outcome.answer, scope));
    }
    const refusal = claimRefusal(outcome);
    if (refusal) throw refusal;
    idempotent.heldBy = caller.keyId;
  }
  if (rateLimited) enforceQuota(c, caller);
  vouchFor(hash);
  c.set("caller", caller);
  return caller;
}

/** `authorize` for project endpoints: the caller always has an organization and a project. */
export async function authorizeProject(c: Context<HonoEnv>, options: AuthorizeOptions = {}): Promise<ProjectCaller> {
  const caller = await authorize(c, options);
  if (!caller.project || !caller.organization) throw new AppError("INSUFFICIENT_SCOPE", "This endpoint needs a project key");
  return caller as ProjectCaller;
}

/**
 * `authorizeProject`, with a read that needs only the presented key's hash run alongside the key
 * check: one round trip for both instead of two in a row. `read` runs before the key is known to
 * be good, so it must only read, and only what the key's own project holds; its result is
 * handed over once the key is authorized. It starts only once the burst shield has let the key
 * through, so a flood the shield cuts still costs the database nothing.
 */
export async function authorizeProjectAlongside<T>(
  c: Context<HonoEnv>,
  read: (keyHash: string) => Promise<T>,
): Promise<{ caller: ProjectCaller; read: T }> {
  let reading: Promise<T> | undefined;
  const caller = await authorizeProject(c, {
    alongside: (keyHash) => {
      reading = read(keyHash);
      // Observed at once: when the key is refused, nobody awaits the read.
      reading.catch(() => {});
    },
  });
  return { caller, read: (await reading) as T };
}
