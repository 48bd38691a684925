/**
 * An image URL that the edge cache could not answer (cache-first.ts answers hits): an original,
 * with its validators, ranges and a copy kept for the next request, or a variant (variant.ts).
 */
import type { Context } from "hono";
import { type ImagePath, parseImageKey } from "../images/storage-key";
import { hasTransformOptions, parseTransformOptions } from "../images/transform/options";
import type { HonoEnv } from "../middleware/env";
import { findImageByRef } from "../services/image-refs";
import { findServableImage } from "../services/images";
import type { ObjectInfo, StoredObject } from "../storage/object-store";
import { spendClientBudget } from "./client-limit";
import { edgeCache, imageCacheKey } from "./edge-cache";
import { imagePathOfUrl, imageRefOfUrl } from "./image-path";
import { imageUrlBase } from "./image-urls";
import {
  answer,
  answerFromCache,
  beginMiss,
  cacheCopy,
  notFound,
  notFoundRemembered,
  PUBLIC_CACHE_CONTROL,
  requireValidSignature,
  type Served,
  servedFromCache,
} from "./response";
import { type KnownImage, serveVariant } from "./variant";

/** The query of a signed URL: its expiry (Unix seconds) and signature. */
export interface SignedQuery {
  expires?: string;
  sig?: string;
}

function displayName(filename: string | null, file: string): string {
  return filename ? `${filename}.${file.split(".").pop()}` : file;
}

/**
 * What an `img/` URL answers may change (its alias moves, its image is regenerated), so browsers
 * and shared caches may keep it but must revalidate it (by ETag) every time.
 */
export const REVALIDATED_CACHE_CONTROL = "public, no-cache";

/** Answers an image URL: the original, or the variant its transformation options ask for. */
export async function serveImage(c: Context<HonoEnv>, query: SignedQuery): Promise<Response> {
  // From the raw path, as the cache-first middleware reads it, not from the decoded parameters.
  const image = imagePathOfUrl(c.req.url) ?? notFound();
  const options = parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
  if (hasTransformOptions(options)) return serveVariant(c, { image, options, ...query });
  return serveOriginal(c, image, query);
}

/**
 * Answers an `img/` URL, an image by id or project alias: one database statement says which
 * image it names now, then that image's original or variant is served as at its own URL (the
 * same edge-cache entries, so a hit needs no storage call), revalidated rather than immutable.
 * Which image a name means is never kept at the edge: a purge reaches one data center only, so
 * a moved alias would go on answering elsewhere. Private projects' images have no such URL.
 */
export async function serveImageRef(c: Context<HonoEnv>): Promise<Response> {
  const ref = imageRefOfUrl(c.req.url) ?? notFound();
  const options = parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
  await spendClientBudget(c, "image-miss");
  const target = await findImageByRef(c.var.services.db, ref);
  if (!target || target.private) notFound();
  // The key is the server's own; one outside the grammar was never served.
  const image = parseImageKey(target.storageKey) ?? notFound();
  const known = { image: target, cacheControl: REVALIDATED_CACHE_CONTROL };
  if (hasTransformOptions(options)) return serveVariant(c, { image, options, known });
  return serveOriginal(c, image, {}, known);
}

/**
 * The database says whether the image is live and public, storage has the bytes, and a public
 * image is kept in the edge cache for the next request. A known image was looked up by its
 * `img/` URL: its edge copy is tried first (the cache-first middleware did not), and its answers
 * are revalidated by ETag only, since what the URL names can be older than the client's copy.
 */
async function serveOriginal(
  c: Context<HonoEnv>,
  image: ImagePath,
  { expires, sig }: SignedQuery,
  known?: KnownImage,
): Promise<Response> {
  const { key, file } = image;
  const signed = expires !== undefined || sig !== undefined;
  if (signed) await requireValidSignature(c, key, { expires, sig });

  const cache = c.var.config.edgeCache ? edgeCache() : null;
  if (known) {
    const hit = await cache?.match(imageCacheKey(imageUrlBase(c), image));
    if (hit) return answerFromCache(c, hit, { ...servedFromCache(hit, file, known.cacheControl), etagOnly: true });
  } else await beginMiss(c, cache, image);
  const { db, store } = c.var.services;
  const wantsRange = c.req.header("Range") !== undefined || c.req.method === "HEAD";
  const [servable, object] = await Promise.all([
    known?.image ?? findServableImage(db, key),
    wantsRange ? store.head(key) : (store.get(key) as Promise<StoredObject | ObjectInfo | null>),
  ]);
  const body = object && "body" in object ? (object as StoredObject).body : null;
  if (!servable || !object || (servable.private && !signed)) {
    await body?.cancel();
    // Only a missing image is remembered: a private one still answers its signed URLs.
    if (!servable || !object) notFoundRemembered(c, cache, image);
    notFound();
  }

  const expiresIn = signed ? Math.max(0, Number(expires) - Math.floor(Date.now() / 1000)) : 0;
  const served: Served = {
    info: object,
    filename: displayName(servable.filename, file),
    cacheControl: signed || servable.private ? `private, max-age=${expiresIn}` : (known?.cacheControl ?? PUBLIC_CACHE_CONTROL),
    etagOnly: known !== undefined,
  };
  const cacheable = Boolean(cache && !signed && !servable.private && body);
  const response = await answer(
    c,
    served,
    async (range) => {
      if (range) return (await store.get(key, { range }))?.body ?? notFound();
      if (!body) return (await store.get(key))?.body ?? notFound();
      if (!cacheable) return body;
      const [forClient, forCache] = body.tee();
      cacheCopy(c, cache as Cache, imageCacheKey(imageUrlBase(c), image), forCache, served);
      return forClient;
    },
    cacheable ? "MISS" : "BYPASS",
  );
  if (response.status !== 200) await body?.cancel();
  return response;
}
