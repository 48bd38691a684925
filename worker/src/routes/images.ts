import { createRoute, z } from "@hono/zod-openapi";
import { IMAGE_CATEGORIES } from "../domain/catalog";
import { SLUG_PATTERN } from "../domain/slug";
import { objectHeaders } from "../images/delivery";
import { EDGE_CACHE_TTL_SECONDS, edgeCache, imageCacheKey } from "../images/edge-cache";
import { IMAGE_FILE_NAME, imagePathOfUrl } from "../images/image-path";
import { hasTransformOptions, parseTransformOptions } from "../images/transform/options";
import { commonErrorResponses, problemResponse, publicSecurity } from "../lib/openapi";
import { access } from "../middleware/access";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../middleware/client-limit";
import { findServableImage } from "../services/images";
import type { ObjectInfo, StoredObject } from "../storage/object-store";
import { createRouter } from "./create-app";
import { imageOrigin } from "./enhancement-schemas";
import {
  answer,
  beginMiss,
  notFound,
  notFoundRemembered,
  PUBLIC_CACHE_CONTROL,
  requireValidSignature,
  type Served,
} from "./image-response";
import { serveVariant } from "./image-variant";

const transformOption = (description: string) => z.string().max(200).optional().openapi({ description });

const route = createRoute({
  method: "get",
  path: "/api/images/{organization}/{project}/{category}/{file}",
  tags: ["Images"],
  operationId: "getImage",
  summary: "An image's bytes (HEAD too): public, the URL is the capability",
  description:
    "Served from the edge cache when possible (X-Cache: HIT/MISS). Query parameters other than those below (utm_source, fbclid, ...) are ignored: they are part of neither the cache key nor the signature. Supports If-None-Match / If-Modified-Since (304) and a single byte range (206, 416). Images of private projects need a temporary URL (expires, sig). With transformation options the image is resized, cropped, converted and watermarked in the Worker, and each variant is cached; arbitrary sizes, crops and qualities need a signed URL (POST /api/images/{id}/transform-url), presets do not.",
  middleware: [access.public()],
  security: publicSecurity,
  request: {
    params: z.object({
      organization: z.string().regex(SLUG_PATTERN),
      project: z.string().regex(SLUG_PATTERN),
      category: z.enum(IMAGE_CATEGORIES),
      file: z.string().regex(IMAGE_FILE_NAME),
    }),
    // Transformation options are parsed (a malformed or repeated one refused with 400
    // INVALID_TRANSFORM, others ignored) by parseTransformOptions; they are declared here for the reference.
    query: z.object({
      w: transformOption("Output width in pixels (1-4096)"),
      h: transformOption("Output height in pixels (1-4096)"),
      fit: transformOption("cover (default: fill the box, crop by gravity), contain (pad), fill (stretch), inside, outside"),
      gravity: transformOption(
        "Crop anchor for cover / placement for contain: center, north, south, east, west, northeast, northwest, southeast, southwest, or a focal point x,y (0-1)",
      ),
      crop: transformOption("x,y,width,height in source pixels, applied first"),
      format: transformOption("png, jpeg, webp, or auto (WebP when Accept allows it; answers Vary: Accept)"),
      q: transformOption("Quality 1-100 for JPEG and WebP"),
      preset: transformOption("thumbnail, small, medium, large, or one of the project's presets; unsigned"),
      watermark: transformOption("1 or 0: force the project's watermark on or off"),
      expires: z.string().max(16).optional().openapi({ description: "Signed URLs: expiry, Unix seconds" }),
      sig: z.string().max(64).optional().openapi({ description: "Signed URLs: HMAC signature" }),
    }),
  },
  responses: {
    200: { description: "The image", content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } } },
    206: {
      description: "The requested byte range",
      content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } },
    },
    304: { description: "The client's copy is current" },
    400: problemResponse("An invalid transformation option (INVALID_TRANSFORM), named in `errors`"),
    403: problemResponse(
      "Signed URL expired (URL_EXPIRED), tampered with (INVALID_SIGNATURE) or missing for arbitrary sizes (SIGNATURE_REQUIRED)",
    ),
    422: problemResponse(
      "The output would exceed the size limit (OUTPUT_TOO_LARGE), or the stored source cannot be decoded safely: malformed or ambiguous (INVALID_IMAGE), over 8 MP or needing more memory to decode than 8 MP of baseline JPEG does, as a large progressive JPEG (IMAGE_TOO_LARGE), or a variant the decoders lack (UNSUPPORTED_IMAGE_FEATURE)",
    ),
    429: problemResponse(
      `The image has as many variants as allowed (VARIANT_LIMIT), or this client IP address made too many requests the edge cache could not answer (TOO_MANY_REQUESTS, with Retry-After: ${CLIENT_LIMIT_RETRY_SECONDS} s; cache hits are never limited)`,
    ),
    404: problemResponse("No such image"),
    416: problemResponse("The range starts beyond the end"),
    503: problemResponse(
      "The database (DATABASE_UNAVAILABLE, with Retry-After) or storage (STORAGE_UNAVAILABLE) is down or did not answer in time, or transformations are busy (TRANSFORM_BUSY)",
    ),
    ...commonErrorResponses,
  },
});

function displayName(filename: string | null, file: string): string {
  return filename ? `${filename}.${file.split(".").pop()}` : file;
}

export const imageRoutes = createRouter().openapi(
  route,
  async (c) => {
    // From the raw path, as imageCacheFirst reads it, not from the decoded parameters.
    const image = imagePathOfUrl(c.req.url) ?? notFound();
    const { key, file } = image;
    const { expires, sig } = c.req.valid("query");
    const options = parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
    if (hasTransformOptions(options)) return serveVariant(c, { image, options, expires, sig });

    const signed = expires !== undefined || sig !== undefined;
    if (signed) await requireValidSignature(c, key, { expires, sig });

    // A miss: imageCacheFirst answered hits before routing. The database says whether the image
    // is live and public, storage has the bytes, and a public image is cached for the next request.
    const cache = c.var.config.edgeCache ? edgeCache() : null;
    const cacheKey = imageCacheKey(imageOrigin(c), image);
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
        const copy = new Response(forCache, {
          headers: {
            ...objectHeaders({
              contentType: object.contentType,
              size: object.size,
              etag: object.etag,
              lastModified: object.uploaded,
              filename: served.filename,
              cacheControl: `public, max-age=${EDGE_CACHE_TTL_SECONDS}`,
            }),
            "Content-Length": String(object.size),
          },
        });
        c.var.services.defer(() => (cache as Cache).put(cacheKey, copy));
        return forClient;
      },
      cacheable ? "MISS" : "BYPASS",
    );
    if (response.status !== 200) await body?.cancel();
    return response;
  },
  // Any malformed path is simply not an image: 404, and it never reaches storage. A malformed
  // query (a repeated option) gets the transformation parser's 400 naming the option.
  (result, c) => {
    if (result.success) return undefined;
    if (result.target === "query") parseTransformOptions(new URL(c.req.url).searchParams, { unknownParameters: "ignore" });
    notFound();
  },
);
