import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "./env";

/**
 * API answers (JSON, problems, the OpenAPI document) are data, never documents: opened
 * directly in a browser they run nothing, load nothing and cannot be framed.
 */
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Security headers on every response of the Worker itself (the site's pages get theirs from
 * site/public/_headers). Nothing is sniffed into another type. Images keep no CSP: they are
 * embedded by other sites and opened directly, and a `default-src 'none'` would stop a browser
 * from showing one on its own.
 */
export const securityHeaders = createMiddleware<HonoEnv>(async (c, next) => {
  await next();
  // Responses from the edge cache or storage can carry immutable headers: assigning c.res
  // makes a copy whose headers can be set.
  c.res = new Response(c.res.body, c.res);
  c.res.headers.set("X-Content-Type-Options", "nosniff");
  if (!c.res.headers.get("Content-Type")?.startsWith("image/")) c.res.headers.set("Content-Security-Policy", DATA_CSP);
});
