import { z } from "@hono/zod-openapi";
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
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Present on validation failures: one entry per invalid field." }),
  })
  .openapi("Problem", { description: "RFC 9457 problem details with Banatie's extension members." });

const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } };

/** Error responses every route can produce; routes spread these into their `responses`. */
export const commonErrorResponses = {
  500: { description: "Unexpected error or invalid server configuration", content: problemContent },
} as const;

/** Error responses of endpoints that read or write the database, which has deadlines (db/client.ts). */
export const databaseErrorResponses = {
  503: {
    description: "The database is down or did not answer in time (DATABASE_UNAVAILABLE); retry after Retry-After seconds",
    content: problemContent,
  },
} as const;

/** Error responses of endpoints that take an API key; checking the key reads the database. */
export const keyErrorResponses = {
  401: { description: "Missing, malformed, unknown, expired or revoked API key", content: problemContent },
  403: { description: "The key may not call this endpoint", content: problemContent },
  429: {
    description:
      "TOO_MANY_REQUESTS: this key's burst limit (500 requests per 10 s) is spent; AUTH_THROTTLED: this client IP failed authentication 20 times in a minute and is refused for a minute, whatever key it sends. Both carry Retry-After.",
    content: problemContent,
  },
  ...databaseErrorResponses,
} as const;

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

/** A problem response for a route's own error statuses. */
export function problemResponse(description: string) {
  return { description, content: problemContent };
}

/** Success envelope used by every JSON endpoint except /health. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}
