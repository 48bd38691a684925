import { DrizzleQueryError } from "drizzle-orm/errors";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigurationError } from "../config";
import { isConnectionFailure } from "../db/errors";
import { DATABASE_RETRY_AFTER_SECONDS } from "../domain/limits";
import type { TokenCounts } from "../domain/pricing";

/**
 * Stable error codes of the API. Clients branch on `code`, so a code is never renamed; the
 * HTTP status and the human title of each live here and nowhere else.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, title: "Invalid request" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  INVALID_TRANSFORM: { status: 400, title: "Invalid transformation option" },
  ALIAS_FORMAT_CHECK: { status: 400, title: "Invalid alias" },
  TOO_MANY_REFERENCES: { status: 400, title: "Too many reference images" },
  MISSING_API_KEY: { status: 401, title: "API key required" },
  BOOTSTRAP_TOKEN_REQUIRED: { status: 401, title: "Bootstrap token required" },
  MALFORMED_API_KEY: { status: 401, title: "Malformed API key" },
  INVALID_API_KEY: { status: 401, title: "Unknown API key" },
  EXPIRED_API_KEY: { status: 401, title: "API key expired" },
  REVOKED_API_KEY: { status: 401, title: "API key revoked" },
  BUDGET_EXCEEDED: { status: 402, title: "Monthly budget exceeded" },
  INSUFFICIENT_SCOPE: { status: 403, title: "Key not allowed here" },
  ACCESS_NOT_DECLARED: { status: 403, title: "Endpoint not open to any caller" },
  BOOTSTRAP_COMPLETED: { status: 403, title: "Bootstrap already done" },
  INVALID_BOOTSTRAP_TOKEN: { status: 403, title: "Bootstrap token invalid" },
  URL_EXPIRED: { status: 403, title: "Temporary URL expired" },
  INVALID_SIGNATURE: { status: 403, title: "Temporary URL signature invalid" },
  SIGNATURE_REQUIRED: { status: 403, title: "Transformation needs a signed URL" },
  NOT_FOUND: { status: 404, title: "Not found" },
  API_KEY_NOT_FOUND: { status: 404, title: "API key not found" },
  PROJECT_NOT_FOUND: { status: 404, title: "Project not found" },
  ORGANIZATION_NOT_FOUND: { status: 404, title: "Organization not found" },
  IMAGE_NOT_FOUND: { status: 404, title: "Image not found" },
  GENERATION_NOT_FOUND: { status: 404, title: "Generation not found" },
  FLOW_NOT_FOUND: { status: 404, title: "Flow not found" },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, title: "Webhook delivery not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  RANGE_NOT_SATISFIABLE: { status: 416, title: "Range not satisfiable" },
  LAST_MASTER_KEY: { status: 409, title: "Last active master key" },
  IMAGE_IN_USE: { status: 409, title: "Image in use" },
  ALIAS_CONFLICT: { status: 409, title: "Alias already exists" },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: "A request with this Idempotency-Key is still running" },
  GENERATION_NOT_CANCELABLE: { status: 409, title: "Generation already started" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  FILE_TOO_LARGE: { status: 413, title: "File too large" },
  UNSUPPORTED_FILE_TYPE: { status: 415, title: "Unsupported file type" },
  INVALID_IMAGE: { status: 422, title: "Not a complete image" },
  IMAGE_TOO_LARGE: { status: 422, title: "Image has too many pixels" },
  UNSUPPORTED_IMAGE_FEATURE: { status: 422, title: "Image variant not supported" },
  OUTPUT_TOO_LARGE: { status: 422, title: "Transformation output too large" },
  CONTENT_BLOCKED: { status: 422, title: "Blocked by the model's safety filters" },
  NO_IMAGE: { status: 422, title: "The model returned no image" },
  IDEMPOTENCY_MISMATCH: { status: 422, title: "Idempotency-Key already used for another request" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  RATE_LIMIT_EXCEEDED: { status: 429, title: "Hourly quota exceeded" },
  TOO_MANY_REQUESTS: { status: 429, title: "Too many requests at once" },
  VARIANT_LIMIT: { status: 429, title: "Too many variants of this image" },
  AUTH_THROTTLED: { status: 429, title: "Too many failed authentication attempts" },
  INTERNAL_ERROR: { status: 500, title: "Internal server error" },
  // Never an HTTP answer: recorded on a generation the maintenance found pending long past its budget.
  GENERATION_ABANDONED: { status: 500, title: "Generation abandoned before it finished" },
  // Never HTTP answers: recorded on an asynchronous generation canceled before it started, and on
  // one whose queue message exhausted its retries (the dead-letter queue).
  GENERATION_CANCELED: { status: 409, title: "Generation canceled" },
  GENERATION_RETRIES_EXHAUSTED: { status: 503, title: "Generation retried until it gave up" },
  CONFIGURATION_ERROR: { status: 500, title: "Server misconfigured" },
  BOOTSTRAP_NOT_CONFIGURED: { status: 500, title: "Bootstrap token not configured" },
  UPSTREAM_ERROR: { status: 502, title: "The image model failed" },
  UPSTREAM_BAD_RESPONSE: { status: 502, title: "The image model answered something unusable" },
  UPSTREAM_RATE_LIMITED: { status: 503, title: "The image model is rate limited" },
  UPSTREAM_TIMEOUT: { status: 504, title: "The image model did not answer in time" },
  DATABASE_UNAVAILABLE: { status: 503, title: "Database unavailable" },
  STORAGE_UNAVAILABLE: { status: 503, title: "Object storage unavailable" },
  QUEUE_UNAVAILABLE: { status: 503, title: "Generation queue unavailable" },
  TRANSFORM_BUSY: { status: 503, title: "Transformations busy" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One invalid field of a request, as listed in a validation problem's `errors`. */
export interface FieldError {
  field: string;
  message: string;
}

/** The budget a BUDGET_EXCEEDED answer names: which, its size, what is spent, when it resets. */
export interface BudgetProblem {
  scope: "key" | "project";
  monthlyBudgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
  requestUpToUsd: number;
  resetAt: string;
}

interface AppErrorOptions {
  errors?: FieldError[];
  budget?: BudgetProblem;
  headers?: Record<string, string>;
  cause?: unknown;
  chargedTokens?: TokenCounts;
}

/**
 * The one error type handlers and services throw. The app's error handler renders it as an
 * RFC 9457 problem; anything else thrown becomes a generic 500 so internals never leak.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly errors?: FieldError[];
  readonly budget?: BudgetProblem;
  readonly headers?: Record<string, string>;
  /** A model answered, and its provider charged for these tokens, before the call failed (a refusal, no image). */
  readonly chargedTokens?: TokenCounts;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = options.errors;
    this.budget = options.budget;
    this.headers = options.headers;
    this.chargedTokens = options.chargedTokens;
  }
}

/**
 * The body of every error response (RFC 9457 with Banatie's extension members). `error` repeats
 * `code` and `detail` in the shape Banatie's v1 clients read (`error.code`, `error.message`).
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ErrorCode;
  requestId: string;
  success: false;
  error: { code: ErrorCode; message: string };
  errors?: FieldError[];
  budget?: BudgetProblem;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Builds the problem body for an error; `type` points at the error's entry in the docs. */
export function toProblem(error: AppError, requestId: string, instance?: string): Problem {
  return {
    type: `/docs/errors#${error.code.toLowerCase().replaceAll("_", "-")}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    code: error.code,
    requestId,
    success: false,
    error: { code: error.code, message: error.message },
    ...(error.errors ? { errors: error.errors } : {}),
    ...(error.budget ? { budget: error.budget } : {}),
  };
}

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "VALIDATION_ERROR",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** SQLSTATE classes that mean the database cannot take work now, not that the query is wrong. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;

/** The database cannot take work now; clients may retry after a short wait. */
function databaseUnavailable(cause: unknown): AppError {
  return new AppError("DATABASE_UNAVAILABLE", "The database could not be reached; try again shortly", {
    cause,
    headers: { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

/**
 * Any thrown value as the AppError the client sees. Database failures keep only the driver's
 * error as their cause: drizzle's own message quotes the query and its parameters (key hashes,
 * prompts), which must not reach the logs.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ConfigurationError) return new AppError("CONFIGURATION_ERROR", error.message);
  if (error instanceof HTTPException) {
    if (error.status === 400 && /malformed json/i.test(error.message)) {
      return new AppError("MALFORMED_JSON", "The request body is not valid JSON");
    }
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new AppError(code, error.message || "Request rejected");
  }
  if (error instanceof DrizzleQueryError) {
    const sqlState = (error.cause as { code?: unknown } | undefined)?.code;
    const isQueryError = typeof sqlState === "string" && /^[0-9A-Z]{5}$/.test(sqlState) && !UNAVAILABLE_SQLSTATE.test(sqlState);
    if (!isQueryError) return databaseUnavailable(error.cause);
    return new AppError("INTERNAL_ERROR", "An unexpected error occurred; quote the requestId when reporting it", {
      cause: error.cause,
    });
  }
  if (isConnectionFailure(error)) return databaseUnavailable(error);
  return new AppError("INTERNAL_ERROR", "An unexpected error occurred; quote the requestId when reporting it", { cause: error });
}
