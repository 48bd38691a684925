import { createMiddleware } from "hono/factory";
import { loadConfig } from "../config";
import { asksForOriginal } from "../images/transform/options";
import type { HonoEnv } from "../middleware/env";
import { edgeCache, imageCacheKey } from "./edge-cache";
import { imagePathOfUrl, imageRefOfUrl } from "./image-path";
import { imageUrlBase } from "./image-urls";
import { answerFromCache, notFound, PUBLIC_CACHE_CONTROL, servedFromCache } from "./response";

/** The public URL of an original image on the API's host, as `app.use` matches it. */
export const IMAGE_URL_PATTERN = "/api/images/:organization/:project/:category/:file";

/** The short URL of an image on the CDN host (the delivery Worker only). */
export const CDN_IMAGE_URL_PATTERN = "/:organization/:project/:category/:file";

/**
 * Answers an original image's URL from the edge cache before the rest of the middleware, the
 * parameter validation and the route run: a cache hit is the most frequent request an image
 * platform serves, and it needs none of them (no key, no database, no storage). The image is read
 * from the raw path, so a URL that is not an image's exact address (an escaped `?`, `/`, `..`,
 * anything outside the grammar) is a 404 here and never reaches the cache, storage or the
 * database. Only a GET or HEAD without transformation options or a signature can be a hit
 * (parameters outside the grammar, such as `utm_source`, are ignored): the rest go to the route,
 * as does every miss, which the route stores under the same key, and every `img/` URL (an image
 * by id or alias: see serveImageRef). The cache holds only what the public image route put
 * there, so this can never serve anything the route would refuse.
 */
export const imageCacheFirst = createMiddleware<HonoEnv>(async (c, next) => {
  const { method, url } = c.req;
  if (method !== "GET" && method !== "HEAD") return next();
  const image = imagePathOfUrl(url);
  // What an id or alias names can change, so those URLs are never answered from here.
  if (!image) return imageRefOfUrl(url) ? next() : notFound();
  if (!asksForOriginal(new URL(url).searchParams)) return next();
  const config = loadConfig(c.env);
  const cache = config.edgeCache ? edgeCache() : null;
  if (!cache) return next();
  c.set("config", config);
  const hit = await cache.match(imageCacheKey(imageUrlBase(c), image));
  if (!hit) return next();
  return answerFromCache(c, hit, servedFromCache(hit, image.file, PUBLIC_CACHE_CONTROL));
});
