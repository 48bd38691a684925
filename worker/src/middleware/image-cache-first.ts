import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { edgeCache, imageCacheKey } from "../images/edge-cache";
import type { HonoEnv } from "../lib/types";
import { imageOrigin } from "../routes/enhancement-schemas";
import { answerFromCache, PUBLIC_CACHE_CONTROL, servedFromCache } from "../routes/image-response";

/** The public URL of an original image, as `app.use` matches it. */
export const IMAGE_URL_PATTERN = "/api/images/:organization/:project/:category/:file";

/**
 * Answers an original image's URL from the edge cache before the rest of the middleware, the
 * parameter validation and the route run: a cache hit is the most frequent request an image
 * platform serves, and it needs none of them (no key, no database, no storage). Only a plain
 * GET or HEAD without a query can be a hit: signed URLs and transformations go to the route, as
 * does every miss, which the route stores under the same key. The cache holds only what the
 * public image route put there, so this can never serve anything the route would refuse.
 */
export const imageCacheFirst = createMiddleware<HonoEnv>(async (c, next) => {
  const { method, url } = c.req;
  if ((method !== "GET" && method !== "HEAD") || new URL(url).search !== "") return next();
  const config = loadConfig(c.env);
  const cache = config.edgeCache ? edgeCache() : null;
  if (!cache) return next();
  c.set("config", config);
  // The pattern above has these four parameters, so each is present.
  const { organization, project, category, file } = c.req.param() as Record<
    "organization" | "project" | "category" | "file",
    string
  >;
  const hit = await cache.match(imageCacheKey(imageOrigin(c), `${organization}/${project}/${category}/${file}`));
  if (!hit) return next();
  return answerFromCache(c, hit, servedFromCache(hit, file, PUBLIC_CACHE_CONTROL));
});
