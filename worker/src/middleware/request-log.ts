import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { displayPrefix } from "../domain/api-key";
import type { HonoEnv } from "./env";

/**
 * The one line every request leaves in the logs, as JSON so that Workers Logs indexes each field.
 * It names the route by its pattern (`/api/images/:id/temporary-url`), never the path or query a
 * client sent: paths carry ids and storage keys, queries carry URL signatures. A key appears only
 * by its display prefix, the part the admin listing shows too.
 */
export interface RequestLine {
  message: "request";
  requestId: string | undefined;
  method: string;
  /** The matched endpoint's pattern; null when no endpoint matched (a 404). */
  route: string | null;
  status: number;
  durationMs: number;
  /** The project a project key identified. */
  project?: string;
  /** The display prefix of the key presented (authenticated or not). */
  keyPrefix?: string;
  /** The problem's `code` when the request was answered with an error. */
  errorCode?: string;
}

/** The pattern of the endpoint that matched, not of the middleware mounted on every path. */
function routePattern(c: Context<HonoEnv>): string | null {
  return matchedRoutes(c).find((route) => route.method !== "ALL")?.path ?? null;
}

function requestLine(c: Context<HonoEnv>, durationMs: number): RequestLine {
  const caller = c.get("caller");
  const presented = c.get("presentedKey");
  const keyPrefix = caller?.prefix ?? (presented ? displayPrefix(presented) : undefined);
  const errorCode = c.get("errorCode");
  return {
    message: "request",
    requestId: c.get("requestId"),
    method: c.req.method,
    route: routePattern(c),
    status: c.res.status,
    durationMs,
    ...(caller?.project ? { project: caller.project.id } : {}),
    ...(keyPrefix ? { keyPrefix } : {}),
    ...(errorCode ? { errorCode } : {}),
  };
}

/**
 * Writes the request line once the response is decided; mount it first, so that every answer
 * (edge-cache hits, refusals of the middleware, problems) is counted. Hono's error handler has
 * already turned a thrown error into the response by the time `next()` returns.
 */
export const requestLog = createMiddleware<HonoEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  console.log(JSON.stringify(requestLine(c, Date.now() - started)));
});
