/**
 * An image URL that the edge cache could not answer (cache-first.ts answers hits): an original,
 * with its validators, ranges and a copy kept for the next request, or a variant (variant.ts).
 */
import type { Context } from "hono";
import type { ImagePath } from "../images/storage-key";
import { hasTransformOptions, parseTransformOptions } from "../images/transform/options";
import type { HonoEnv } from "../middleware/env";
import { findServableImage } from "../services/images";
import type { ObjectInfo, StoredObject } from "../storage/object-store";
import { edgeCache, imageCacheKey } from "./edge-cache";
import { imagePathOfUrl } from "./image-path";
import { imageUrlBase } from "./image-urls";
import {
  answer,
  beginMiss,
  cacheCopy,
  notFound,
  notFoundRemembered,
  PUBLIC_CACHE_CONTROL,
  requireValidSignature,
  type Served,
} from "./response";
import { serveVariant } from "./variant";

/** The query of a signed URL: its expiry (Unix seconds) and signature. */
export interface SignedQuery {
  expires?: string;
  sig?: string;
}

function displayName(filename: string | null, file: string): string {
  return filename ? `${filename}.${file.split(".").pop()}` : file;
}

/** Answers an image URL: the original, or the variant its transformation options ask for. */
export async function serveImage(c: Context<HonoEnv>, query: SignedQuery): Promise<Response> {
  // From the raw path, as the cache-first middleware reads it, not from the decoded parameters.
  const image = imagePathOfUrl(c.req.url) ?? notFound();
  const options = parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
  if (hasTransformOptions(options)) return serveVariant(c, { image, options, ...query });
  return serveOriginal(c, image, query);
}

/**
 * The database says whether the image is live and public, storage has the bytes, and a public
 * image is kept in the edge cache for the next request.
 */
async function serveOriginal(c: Context<HonoEnv>, image: ImagePath, { expires, sig }: SignedQuery): Promise<Response> {
  const { key, file } = image;
  const signed = expires !== undefined || sig !== undefined;
  if (signed) await requireValidSignature(c, key, { expires, sig });

  const cache = c.var.config.edgeCache ? edgeCache() : null;
  await beginMiss(c, cache, image);
  const { db, store } = c.var.services;
  const wantsRange = c.req.header("Range") !== undefined || c.req.method === "HEAD";
  const [servable, object] = await Promise.all([
    findServableImage(db, key),
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
    cacheControl: signed || servable.private ? `private, max-age=${expiresIn}` : PUBLIC_CACHE_CONTROL,
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
