/**
 * Which operations take an `Idempotency-Key`, and the one OpenAPI declaration they share: the
 * header, the `Idempotent-Replayed` header of a replay, and the 409 and 422 it can answer.
 */
import { type RouteConfig, z } from "@hono/zod-openapi";
import { IDEMPOTENCY_MAX_BODY_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH } from "../../domain/limits";
import { problemResponse } from "../../lib/openapi";
import { idempotency } from "../../middleware/idempotency";

/**
 * Every POST that spends quota or budget, or creates something: the only place they are listed.
 * POST /api/quotes spends nothing and is not among them.
 */
export const IDEMPOTENT_OPERATIONS = [
  "textToImage",
  "generate",
  "createGenerationV1",
  "regenerateGenerationV1",
  "regenerateFlow",
  "uploadImage",
  "uploadV1Image",
  "createApiKey",
] as const;

const IdempotencyHeaders = z.object({
  "Idempotency-Key": z
    .string()
    .optional()
    .openapi({
      description: `Makes a retry safe: the first request's answer (status, body, Content-Type, Location) is stored and replayed for 24 hours to requests with the same key, from the same API key, with Idempotent-Replayed: true; a replay runs nothing and spends no quota or budget. 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, bare or as a quoted structured-field string; a UUID v4 is a good key. Answers over ${IDEMPOTENCY_MAX_BODY_BYTES / 1024} KiB, and refusals before the request runs (invalid input, the key check, the hourly quota), are not kept.`,
      example: "8e03978e-40d5-43e8-bc93-6894a57f9324",
    }),
});

const replayedHeader = {
  "Idempotent-Replayed": {
    description: "true when this is the stored answer of an earlier request with the same Idempotency-Key",
    schema: { type: "string", enum: ["true"] as string[] },
  },
};

/** The 409's Retry-After: the first request is running; a second is a fair wait before asking again. */
const retryAfterHeader = {
  "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer", minimum: 0 } },
};

const MALFORMED = `the Idempotency-Key is empty, longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters or not printable ASCII (VALIDATION_ERROR)`;
const IN_PROGRESS = "a request with the same Idempotency-Key is still running (IDEMPOTENCY_IN_PROGRESS; retry after it ends)";
const MISMATCH = "the Idempotency-Key was first used with another method, path or body (IDEMPOTENCY_MISMATCH)";

type Responses = RouteConfig["responses"];

/** Answers given before a request runs (the key check, the quota, the body limit): never stored, never replayed. */
const NEVER_REPLAYED = new Set(["401", "413", "429"]);

/** A route's responses with what an Idempotency-Key adds: any answer of a request that ran may be a replay. */
function withIdempotentResponses(responses: Responses): Responses {
  const result: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    const declared = response as { headers?: object };
    result[status] = NEVER_REPLAYED.has(status)
      ? response
      : ({ ...declared, headers: { ...declared.headers, ...replayedHeader } } as Responses[string]);
  }
  const merged = (status: string, addition: string, headers: object = {}) => {
    const earlier = responses[status] as { description: string } | undefined;
    const response = (earlier ? result[status] : problemResponse(addition)) as { headers?: object };
    result[status] = {
      ...response,
      ...(earlier ? { description: `${earlier.description}; or ${addition}` } : {}),
      headers: { ...response.headers, ...headers },
    } as Responses[string];
  };
  merged("400", MALFORMED);
  merged("409", IN_PROGRESS, retryAfterHeader);
  merged("422", MISMATCH);
  return result;
}

/** The route's own request headers (as one zod object) with the Idempotency-Key beside them. */
function withIdempotencyHeader(own: NonNullable<RouteConfig["request"]>["headers"]) {
  if (own === undefined) return IdempotencyHeaders;
  if (own instanceof z.ZodObject) return own.merge(IdempotencyHeaders);
  throw new Error("an idempotent route declares its own headers as one zod object");
}

/**
 * Declares a route idempotent: the middleware that honours the header (after the route's own,
 * so uploads are hashed as they stream) and the shared OpenAPI declaration. Only the operations
 * in IDEMPOTENT_OPERATIONS may be declared so.
 */
export function idempotent<R extends RouteConfig>(route: R): R {
  if (!(IDEMPOTENT_OPERATIONS as readonly string[]).includes(route.operationId ?? "")) {
    throw new Error(`${route.operationId} is not in IDEMPOTENT_OPERATIONS`);
  }
  const middleware =
    route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  return {
    ...route,
    middleware: [...middleware, idempotency],
    request: { ...route.request, headers: withIdempotencyHeader(route.request?.headers) },
    responses: withIdempotentResponses(route.responses),
  };
}
