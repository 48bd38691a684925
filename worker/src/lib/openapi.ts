import { z } from "@hono/zod-openapi";
import { MAX_JSON_BODY_BYTES } from "../domain/limits";
import { ERROR_CODES, PROBLEM_CONTENT_TYPE } from "./errors";

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "/docs/errors#validation-error" }),
    title: z.string().openapi({ example: "Invalid request" }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().openapi({ example: "prompt: Too big: expected string to have <=5000 characters" }),
    instance: z.string().optional().openapi({ example: "/api/text-to-image" }),
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]).openapi({ example: "VALIDATION_ERROR" }),
    requestId: z.string().openapi({ example: "0b6c8f0e-7f57-4a55-9a1c-5f0f3d9b1c2a" }),
    success: z.literal(false),
    error: z
      .object({
        code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]).openapi({ example: "VALIDATION_ERROR" }),
        message: z.string().openapi({ example: "prompt: Too big: expected string to have <=5000 characters" }),
      })
      .openapi({ description: "`code` and `detail` again, where Banatie's v1 clients read them." }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Present on validation failures: one entry per invalid field." }),
    budget: z
      .object({
        scope: z.enum(["key", "project"]),
        monthlyBudgetUsd: z.number(),
        spentUsd: z.number(),
        reservedUsd: z.number().openapi({ description: "Held by generations still running" }),
        requestUpToUsd: z.number().openapi({ description: "The request's quoted upper bound" }),
        resetAt: z.string().datetime().openapi({ description: "Start of the next calendar month (UTC)" }),
      })
      .optional()
      .openapi({ description: "Present on BUDGET_EXCEEDED: the monthly budget the request would cross." }),
  })
  .openapi("Problem", { description: "RFC 9457 problem details with Banatie's extension members." });

const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } };

/** The `Retry-After` header of 429 and 503 answers. */
const retryAfterHeader = {
  "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer", minimum: 0 } },
} as const;

/** Error responses every route can produce; routes spread these into their `responses`. */
export const commonErrorResponses = {
  413: {
    description: `A request body over ${MAX_JSON_BODY_BYTES / 1024} KiB (PAYLOAD_TOO_LARGE); every request except a multipart upload is held to this limit`,
    content: problemContent,
  },
  500: { description: "Unexpected error or invalid server configuration", content: problemContent },
} as const;

/** Error responses of endpoints that read or write the database, which has deadlines (db/client.ts). */
export const databaseErrorResponses = {
  503: {
    description: "The database is down or did not answer in time (DATABASE_UNAVAILABLE); retry after Retry-After seconds",
    headers: retryAfterHeader,
    content: problemContent,
  },
} as const;

const authThrottled = "too many failed authentications from this client (AUTH_THROTTLED), for a minute";

/** Error responses of endpoints that take an API key. */
export const keyErrorResponses = {
  401: { description: "Missing, malformed, unknown, expired or revoked API key", content: problemContent },
  403: { description: "The key may not call this endpoint", content: problemContent },
  429: {
    description: `Too many requests with this key at once (TOO_MANY_REQUESTS: its burst limit), or refused before the key was checked: ${authThrottled}. Retry-After says when to try again.`,
    headers: retryAfterHeader,
    content: problemContent,
  },
  ...databaseErrorResponses,
} as const;

/** Error responses of endpoints that spend the key's hourly quota (text-to-image, enhance, upload). */
export const quotaKeyErrorResponses = {
  ...keyErrorResponses,
  429: {
    description: `The key's hourly quota is used up (RATE_LIMIT_EXCEEDED; the X-RateLimit-* headers give the limit and the reset), too many requests with this key at once (TOO_MANY_REQUESTS, retry within seconds), or ${authThrottled}. Retry-After says when to try again.`,
    headers: retryAfterHeader,
    content: problemContent,
  },
} as const;

/** Declares an operation open to anyone: no key, overriding any document-wide security. */
export const publicSecurity: Record<string, string[]>[] = [];

/** Declares in the OpenAPI document that an endpoint takes an API key, in either header. */
export const keySecurity: Record<string, string[]>[] = [{ ApiKeyHeader: [] }, { BearerKey: [] }];

export const securitySchemes = {
  ApiKeyHeader: {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
    description: "Your key: bnt_mk_... (master) or bnt_pk_... (project)",
  },
  BearerKey: { type: "http", scheme: "bearer", description: "The same key as a bearer token" },
} as const;

/** What `UNLICENSED` in package.json means: no licence has been granted (yet). */
const UNLICENSED_MEANING = "https://docs.npmjs.com/cli/v11/configuring-npm/package-json#license";

/**
 * The document's licence object for package.json's `license`: an SPDX identifier, or UNLICENSED
 * while the project has declared none (there is no LICENSE file), linked to what that means.
 */
export function licenseObject(license: string) {
  return license === "UNLICENSED"
    ? { name: "UNLICENSED: no licence has been granted", url: UNLICENSED_MEANING }
    : { name: license, identifier: license };
}

/** Keyset pagination of every list: pass `nextCursor` back as `cursor` for the next page. */
export const PaginationSchema = z
  .object({
    limit: z.number().int(),
    nextCursor: z.string().nullable(),
    hasMore: z.boolean(),
  })
  .openapi("Pagination");

/** The `pagination` member of a list response. */
export function pagination(limit: number, nextCursor: string | null) {
  return { limit, nextCursor, hasMore: nextCursor !== null };
}

export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ success: z.literal(true), data: z.array(item), pagination: PaginationSchema });
}

/** Offset pagination of the v1 lists (Banatie's shape): `total` rows match, `hasMore` when a next page exists. */
export const OffsetPaginationSchema = z
  .object({
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
    hasMore: z.boolean(),
  })
  .openapi("OffsetPagination");

/** The `pagination` member of a v1 list response, for a page of `limit` rows from `offset` out of `total`. */
export function offsetPagination(total: number, limit: number, offset: number) {
  return { total, limit, offset, hasMore: offset + limit < total };
}

export function offsetListEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ success: z.literal(true), data: z.array(item), pagination: OffsetPaginationSchema });
}

/** A problem response for a route's own error statuses. */
export function problemResponse(description: string) {
  return { description, content: problemContent };
}

/** Success envelope used by every JSON endpoint except /health. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}
