/**
 * How long a data center keeps a cached image. `cache.delete` reaches only the data center it
 * runs in, so deleting an image, or making its project private, takes effect elsewhere when their
 * copies expire: within this hour, not the year browsers may keep an immutable image.
 */
export const EDGE_CACHE_TTL_SECONDS = 3600;

/**
 * The Workers Cache API in front of object storage. Entries are keyed by the image's public path
 * on one canonical origin, so the delete and privacy paths can purge exactly what serving stored.
 */
export function imageCacheKey(origin: string, storageKey: string, variantKey = ""): Request {
  return new Request(`${origin}/api/images/${storageKey}${variantKey ? `?${variantKey}` : ""}`);
}

/** Null where the runtime has no cache (Node, for the OpenAPI document). */
export function edgeCache(): Cache | null {
  return typeof caches === "undefined" ? null : caches.default;
}

/** Purges originals (a storage key) and variants (a storage key with its canonical options). */
export async function purgeImages(
  origin: string,
  entries: (string | { storageKey: string; variantKey: string })[],
): Promise<void> {
  const cache = edgeCache();
  if (!cache) return;
  await Promise.all(
    entries.map((entry) =>
      cache.delete(
        typeof entry === "string" ? imageCacheKey(origin, entry) : imageCacheKey(origin, entry.storageKey, entry.variantKey),
      ),
    ),
  );
}
