/**
 * The request context every route and middleware is typed with: the Worker's bindings and what
 * the middleware puts on the context. It names providers, storage and limiters, so it sits above
 * them, with the middleware that builds them, and not in lib/ (which they all import).
 */
import type { RequestIdVariables } from "hono/request-id";
import type { Config } from "../config";
import type { Database, SessionDatabase } from "../db/client";
import type { AccessPolicy, Caller } from "../lib/access-types";
import type { ErrorCode } from "../lib/errors";
import type { ImageModel } from "../providers/image-model";
import type { PromptEnhancer } from "../providers/prompt-enhancer";
import type { FailedAuthThrottle } from "../rate-limit/auth-throttle";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { WebhookQueue } from "../services/webhooks/deliveries";
import type { ObjectStore } from "../storage";

/** Clients built per request by the services middleware; handlers reach them as `c.var.services`. */
export interface Services {
  /** Single statements and batches over HTTP: one exchange each, no connection setup. */
  db: Database;
  /** A WebSocket session (connection setup on first use), only for interactive transactions. */
  sessionDb: SessionDatabase;
  store: ObjectStore;
  /** Gemini when GEMINI_API_KEY is set, otherwise the offline preview model. */
  imageModel: ImageModel;
  /** A Gemini text model when GEMINI_API_KEY is set, otherwise the offline template enhancer. */
  enhancer: PromptEnhancer;
  /** Shield per API key in front of the exact quota, on every keyed endpoint. */
  burstLimiter: RateLimiter;
  /** Failed authentications per client IP; a throttled client is refused before any key lookup. */
  authThrottle: FailedAuthThrottle;
  /** Public work (image misses, health checks) per client IP. */
  clientLimiter: RateLimiter;
  /** The billing export is on (STRIPE_SECRET_KEY and a meter name set): billed usage is queued for it. */
  billingExport: boolean;
  /** Where webhook deliveries are queued (WEBHOOK_QUEUE); the image-delivery Worker has none and never generates. */
  webhookQueue: WebhookQueue;
  /**
   * Runs `task` after the response is sent (audit records of failures, for instance), before
   * the request's database session closes. Failures are logged, never surfaced to the caller.
   */
  defer(task: () => Promise<unknown>): void;
  /**
   * Like `defer`, but started only once the response is ready (every middleware done): for work
   * that must not share the response's time at all, such as a generation's webhook events.
   */
  afterResponse(task: () => Promise<unknown>): void;
}

/** A request sent with an Idempotency-Key. */
export interface IdempotentRequest {
  key: string;
  /** Method, path and body hashed (services/idempotency.ts). */
  fingerprint: () => Promise<string>;
  /** The API key whose claim on `key` this request holds, once the key check won it. */
  heldBy?: string;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    services: Services;
    /** Who may call the matched endpoint, set by its `access` middleware. */
    access: AccessPolicy;
    /** The API key presented, checked for shape and checksum only. */
    presentedKey?: string;
    /** Set once the key is authenticated. */
    caller?: Caller;
    /** The request's Idempotency-Key (middleware/idempotency.ts); `heldBy` once its claim is won. */
    idempotency?: IdempotentRequest;
    /** With an Idempotency-Key, the SHA-256 (hex) of a multipart body as received (middleware/upload-limit.ts). */
    bodySha256?: Promise<string>;
    /** The `code` of the problem the request was answered with, for the request log line. */
    errorCode?: ErrorCode;
  };
}
