import { type ImagePath, parseImageKey } from "../images/storage-key";

/**
 * How long a data center keeps a cached image. `cache.delete` reaches only the data center it
 * runs in, so deleting an image, or making its project private, takes effect elsewhere when their
 * copies expire: within this hour, not the year browsers may keep an immutable image.
 */
export const EDGE_CACHE_TTL_SECONDS = 3600;

/**
 * How long a data center remembers that an image does not exist, so repeated requests for it cost
 * no database or storage call. Short: names are random and never reused, but a remembered miss
 * outliving a slow upload would hide an image that now exists.
 */
export const MISSING_IMAGE_TTL_SECONDS = 60;

/**
 * The Workers Cache API in front of object storage. Entries are keyed by the image's canonical
 * public URL (`base`, from imageUrlBase, then the storage key), whichever host or form served it,
 * so the delete and privacy paths can purge exactly what serving stored.
 * The only way to a key: an `ImagePath` (every part checked against the grammar) and, for a
 * variant, its canonical options (see canonicalOptions), so no spelling of a URL can reach
 * another entry.
 */
export function imageCacheKey(base: string, image: ImagePath, variantKey = ""): Request {
  return new Request(`${base}${image.key}${variantKey ? `?${variantKey}` : ""}`);
}

/** A key no variant can have: canonical options are always `name=value` pairs. */
function missingImageCacheKey(base: string, image: ImagePath): Request {
  return new Request(`${base}${image.key}?missing`);
}

/** Null where the runtime has no cache (Node, for the OpenAPI document). */
export function edgeCache(): Cache | null {
  return typeof caches === "undefined" ? null : caches.default;
}

/** True when a recent request found no such image (see MISSING_IMAGE_TTL_SECONDS). */
export async function isKnownMissing(cache: Cache, base: string, image: ImagePath): Promise<boolean> {
  const hit = await cache.match(missingImageCacheKey(base, image));
  await hit?.body?.cancel();
  return hit !== undefined;
}

/** Remembers that the image does not exist, for MISSING_IMAGE_TTL_SECONDS. */
export function rememberMissing(cache: Cache, base: string, image: ImagePath): Promise<void> {
  const marker = new Response(null, { headers: { "Cache-Control": `public, max-age=${MISSING_IMAGE_TTL_SECONDS}` } });
  return cache.put(missingImageCacheKey(base, image), marker);
}

/** Purges originals (a storage key) and variants (a storage key with its canonical options). */
export async function purgeImages(base: string, entries: (string | { storageKey: string; variantKey: string })[]): Promise<void> {
  const cache = edgeCache();
  if (!cache) return;
  await Promise.all(
    entries.map((entry) => {
      const [storageKey, variantKey] = typeof entry === "string" ? [entry, ""] : [entry.storageKey, entry.variantKey];
      // A key outside the grammar was never served, so nothing of it is cached.
      const image = parseImageKey(storageKey);
      return image ? cache.delete(imageCacheKey(base, image, variantKey)) : false;
    }),
  );
}
