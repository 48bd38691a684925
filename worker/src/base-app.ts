import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { IMAGE_URL_PATTERN, imageCacheFirst } from "./delivery/cache-first";
import { MAX_JSON_BODY_BYTES } from "./domain/limits";
import { AppError } from "./lib/errors";
import { denyUndeclaredAccess } from "./middleware/access";
import { requestLog } from "./middleware/request-log";
import { securityHeaders } from "./middleware/security-headers";
import { type ModelFactory, services } from "./middleware/services";
import { createApp } from "./routes/create-app";

const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`);
  },
});

/**
 * The root app both Workers start from (the API's and image delivery's): one log line per
 * request, security headers on every response, a request id, edge-cache hits for original images, the body limit, the
 * per-request services, and the rule that an endpoint without declared access answers nobody.
 * `imageUrlPatterns` are the image URLs the Worker serves (cache hits answer there). It imports
 * no routes and no models, so each Worker's bundle holds only what it mounts and the models it
 * is given.
 */
export function buildBaseApp(createModels: ModelFactory, imageUrlPatterns: readonly string[] = [IMAGE_URL_PATTERN]) {
  const app = createApp();
  // First, so that every answer, an edge-cache hit or a refusal of the middleware below, is logged once.
  app.use("*", requestLog);
  app.use("*", securityHeaders);
  // A caller's id is kept only when it is at most 128 of [A-Za-z0-9_=-], so it is safe to log and echo.
  app.use(
    "*",
    requestId({
      headerName: "X-Request-Id",
      limitLength: 128,
      generator: () => crypto.randomUUID(),
    }),
  );
  for (const pattern of imageUrlPatterns) app.use(pattern, imageCacheFirst);
  // Every request body is capped, whatever the path or method (the API's document says so);
  // uploads (multipart) enforce their own limit while streaming.
  app.use("*", async (c, next) => {
    if (c.req.header("content-type")?.startsWith("multipart/form-data")) return next();
    return jsonBodyLimit(c, next);
  });
  app.use("*", services(createModels));
  app.use("*", denyUndeclaredAccess);
  return app;
}
