import type { StripeSettings } from "../../config";
import { RetriesExhaustedError, type RetryPolicy, type RetrySeams, withRetries } from "../../lib/retry";

/** One usage fact for a Stripe meter: `value` of the meter's unit for `customerId` at `timestamp`. */
export interface MeterEvent {
  /** Stripe refuses a second event with the same identifier, so a resend never bills twice. */
  identifier: string;
  customerId: string;
  value: number;
  timestamp: Date;
}

/**
 * `sent`: Stripe recorded the event now. `already-sent`: Stripe already holds an event with this
 * identifier (an earlier attempt reached it, though its answer was lost).
 */
export type MeterEventOutcome = "sent" | "already-sent";

/** Where meter events go: Stripe's v1 meter events API, or a twin in tests. */
export interface MeterEventSink {
  /** Sends one event, retrying what may pass on a second try; throws a StripeRequestError otherwise. */
  send(event: MeterEvent): Promise<MeterEventOutcome>;
}

/**
 * Why Stripe did not take an event:
 * - `auth`: the key was refused (401, 403): nothing will pass until an operator fixes it;
 * - `unavailable`: no answer, 409, 429 or 5xx, after the bounded retries;
 * - `rejected`: Stripe refused this event (400, 404, ...), in `message`.
 */
export class StripeRequestError extends Error {
  constructor(
    readonly kind: "auth" | "unavailable" | "rejected",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StripeRequestError";
  }
}

/** Stripe's error body: `{ error: { type, code?, message, param? } }`. */
interface StripeErrorBody {
  error?: { type?: string; code?: string; message?: string; param?: string };
}

/** An answer other than 200, as read from Stripe. */
class StripeAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(`Stripe answered HTTP ${status}${body.error?.message ? `: ${body.error.message}` : ""}`);
    this.name = "StripeAnswerError";
  }
}

/**
 * Stripe answers a reused identifier with a 400 `invalid_request_error` and no code, only this
 * message ("An event already exists with identifier <id>."); it is the one way to tell.
 */
const DUPLICATE_IDENTIFIER = /^An event already exists with identifier /;

/** Worth another attempt: the request was fine, Stripe or the way to it was not (409: a concurrent request). */
const RETRYABLE_STATUSES = new Set([409, 429, 500, 502, 503, 504]);

/** Three attempts within 30 s: a run waits for a brief hiccup, and leaves a longer outage to the next run. */
export const STRIPE_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  attemptTimeoutMs: 10_000,
  budgetMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 4000,
};

function isRetryable(error: unknown): boolean {
  // A network failure or our own timeout: the request may or may not have reached Stripe.
  if (!(error instanceof StripeAnswerError)) return true;
  return RETRYABLE_STATUSES.has(error.status);
}

function toRequestError(failure: RetriesExhaustedError): StripeRequestError {
  const error = failure.lastError;
  const after = `after ${failure.attempts} attempt(s)`;
  if (!(error instanceof StripeAnswerError)) {
    return new StripeRequestError("unavailable", `Stripe could not be reached (${after})`, { cause: error });
  }
  if (error.status === 401 || error.status === 403) {
    return new StripeRequestError("auth", `Stripe refused the secret key (HTTP ${error.status})`, { cause: error });
  }
  if (RETRYABLE_STATUSES.has(error.status)) {
    return new StripeRequestError("unavailable", `Stripe answered HTTP ${error.status} (${after})`, { cause: error });
  }
  return new StripeRequestError("rejected", error.message, { cause: error });
}

/** The form body of `POST /v1/billing/meter_events`. */
function meterEventForm(eventName: string, event: MeterEvent): URLSearchParams {
  return new URLSearchParams({
    event_name: eventName,
    identifier: event.identifier,
    timestamp: String(Math.floor(event.timestamp.getTime() / 1000)),
    "payload[stripe_customer_id]": event.customerId,
    "payload[value]": String(event.value),
  });
}

/**
 * Stripe's v1 meter events API over plain fetch (no SDK: it would weigh on the Worker's bundle).
 * Each send carries a fresh Idempotency-Key that its own retries reuse, so a retry after a lost
 * answer gets Stripe's replay of it. A key is not reused across sends: Stripe replays a saved 500
 * for 24 hours, which would hold the event back that long. Across sends, the identifier is what
 * keeps Stripe from counting an event twice.
 */
export function createStripeMeterEvents(settings: StripeSettings, seams: Partial<RetrySeams> = {}): MeterEventSink {
  const url = `${settings.apiBase}/v1/billing/meter_events`;
  return {
    async send(event) {
      const body = meterEventForm(settings.meterEventName, event).toString();
      const idempotencyKey = crypto.randomUUID();
      try {
        const { value } = await withRetries(
          STRIPE_RETRY_POLICY,
          async (signal) => {
            const response = await fetch(url, {
              method: "POST",
              headers: {
                Authorization: `Bearer ${settings.secretKey}`,
                "Content-Type": "application/x-www-form-urlencoded",
                "Idempotency-Key": idempotencyKey,
              },
              body,
              signal,
            });
            if (response.ok) {
              await response.body?.cancel();
              return "sent" as const;
            }
            const answer = (await response.json().catch(() => ({}))) as StripeErrorBody;
            if (response.status === 400 && DUPLICATE_IDENTIFIER.test(answer.error?.message ?? "")) return "already-sent" as const;
            throw new StripeAnswerError(response.status, answer);
          },
          isRetryable,
          seams,
        );
        return value;
      } catch (error) {
        if (error instanceof RetriesExhaustedError) throw toRequestError(error);
        throw error;
      }
    },
  };
}
