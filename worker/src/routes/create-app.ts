/**
 * The app and router factories: one validation hook, one error handler and one not-found
 * handler. Typed with the request context (middleware/env.ts), so they sit above the middleware.
 */
import { OpenAPIHono, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, type FieldError, PROBLEM_CONTENT_TYPE, toAppError, toProblem } from "../lib/errors";
import { describeCause } from "../lib/log";
import type { HonoEnv } from "../middleware/env";
import { IdempotentReplay } from "../services/idempotency";

type ValidationFailure = {
  success: false;
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> };
  target: string;
};

/** Turns a zod failure into a 400 problem listing each field, instead of zod's raw error JSON. */
function throwValidationError(result: ValidationFailure): never {
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || result.target,
    message: issue.message,
  }));
  const summary = errors.map((error) => `${error.field}: ${error.message}`).join("; ");
  throw new AppError("VALIDATION_ERROR", `Invalid request ${result.target}: ${summary}`, { errors });
}

/** A handler typed by its route: its params, query, body and every response the route declares. */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, HonoEnv>;

/** A router whose validation failures become problems; every sub-app is made with this. */
export function createRouter() {
  return new OpenAPIHono<HonoEnv>({
    strict: true,
    defaultHook: (result) => {
      if (!result.success) throwValidationError(result as ValidationFailure);
    },
  });
}

/**
 * Writes one structured line; only names and messages, never request bodies, settings or the
 * query string (c.req.path has none), and database errors only by kind (see lib/log.ts).
 */
function logError(c: Context<HonoEnv>, error: AppError, requestId: string) {
  console.error(
    JSON.stringify({
      level: "error",
      requestId,
      method: c.req.method,
      path: c.req.path,
      code: error.code,
      message: error.message,
      ...describeCause(error.cause),
    }),
  );
}

export function problemResponse(c: Context<HonoEnv>, error: AppError): Response {
  // Errors raised before the request-id middleware ran still get an id the log and body share.
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  c.set("requestId", requestId);
  if (error.status >= 500) logError(c, error, requestId);
  c.set("errorCode", error.code);
  return c.body(JSON.stringify(toProblem(error, requestId, c.req.path)), error.status, {
    "Content-Type": PROBLEM_CONTENT_TYPE,
    "Cache-Control": "no-store",
    // Problems may quote the request path; never let a browser treat them as anything but JSON.
    "X-Content-Type-Options": "nosniff",
    ...error.headers,
  });
}

/** The root app: one error handler and one not-found handler for everything mounted on it. */
export function createApp() {
  const app = createRouter();
  app.onError((error, c) =>
    error instanceof IdempotentReplay
      ? // Sent through the context, so it gets this request's own headers (X-Request-Id) too.
        c.body(error.answer.body, error.answer.status as ContentfulStatusCode, error.headers)
      : problemResponse(c, toAppError(error)),
  );
  app.notFound((c) => problemResponse(c, new AppError("NOT_FOUND", `No endpoint matches ${c.req.method} ${c.req.path}`)));
  return app;
}
