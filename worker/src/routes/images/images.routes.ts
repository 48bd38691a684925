import { createRoute, z } from "@hono/zod-openapi";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../../delivery/client-limit";
import { IMAGE_CATEGORIES } from "../../domain/catalog";
import { SLUG_PATTERN } from "../../domain/slug";
import { IMAGE_FILE_NAME } from "../../images/storage-key";
import { commonErrorResponses, problemResponse, publicSecurity } from "../../lib/openapi";
import { access } from "../../middleware/access";

const transformOption = (description: string) => z.string().max(200).optional().openapi({ description });

const imageDescription =
  "Served from the edge cache when possible (X-Cache: HIT/MISS). Query parameters other than those below (utm_source, fbclid, ...) are ignored: they are part of neither the cache key nor the signature. Supports If-None-Match / If-Modified-Since (304) and a single byte range (206, 416). Images of private projects need a temporary URL (expires, sig). With transformation options the image is resized, cropped, converted and watermarked in the Worker, and each variant is cached; arbitrary sizes, crops and qualities need a signed URL (POST /api/images/{id}/transform-url), presets do not.";

/** Transformation options, as every image URL takes them (parsed by parseTransformOptions). */
const TransformQuery = z.object({
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
});

/** The image URL at a path (the API's form or the CDN's): one grammar, one set of answers. */
const imageRouteAt = <const P extends string>(path: P, operationId: string, description: string) =>
  createRoute({
    method: "get",
    path,
    tags: ["Images"],
    operationId,
    summary: "An image's bytes (HEAD too): public, the URL is the capability",
    description,
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
      query: TransformQuery.extend({
        expires: z.string().max(16).optional().openapi({ description: "Signed URLs: expiry, Unix seconds" }),
        sig: z.string().max(64).optional().openapi({ description: "Signed URLs: HMAC signature" }),
      }),
    },
    responses: {
      ...imageBodyResponses,
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
      ...imageUnavailableResponses,
    },
  });

/** What every image URL answers when it serves: the bytes, a range of them, or "not modified". */
const imageBodyResponses = {
  200: { description: "The image", content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } } },
  206: {
    description: "The requested byte range",
    content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } },
  },
  304: { description: "The client's copy is current" },
  400: problemResponse("An invalid transformation option (INVALID_TRANSFORM), named in `errors`"),
} as const;

/** What every image URL answers when a dependency or the transformation slot cannot serve it. */
const imageUnavailableResponses = {
  503: problemResponse(
    "The database (DATABASE_UNAVAILABLE, with Retry-After) or storage (STORAGE_UNAVAILABLE) is down or did not answer in time, or transformations are busy (TRANSFORM_BUSY)",
  ),
  ...commonErrorResponses,
} as const;

export const imageRoute = imageRouteAt(
  "/api/images/{organization}/{project}/{category}/{file}",
  "getImage",
  `${imageDescription} When the deployment has an image CDN host (PUBLIC_CDN_URL), the API returns image URLs on that host instead, as /{organization}/{project}/{category}/{file} with the same options; these URLs keep working.`,
);

/**
 * The short image URL of the CDN host, `{PUBLIC_CDN_URL}/{organization}/{project}/{category}/{file}`:
 * served by the image delivery Worker only, so the API's document does not list it.
 */
export const cdnImageRoute = imageRouteAt(
  "/{organization}/{project}/{category}/{file}",
  "getCdnImage",
  `The image delivery Worker's short image URL, on the host PUBLIC_CDN_URL names: the same image, options and answers as /api/images/{organization}/{project}/{category}/{file}. ${imageDescription}`,
);

const imageRefDescription =
  "The image an id or a project alias names now: after the alias moves, or the image is regenerated, the same URL serves the new image. Answers are revalidated (Cache-Control: public, no-cache) with the image's ETag, so a client's copy is kept until the image changes (304 on a matching If-None-Match). Transformation options work as on the image's own URL; fit=cover without a gravity crops around the image's focal point. Flow and technical aliases (@last, @first, @upload) need a flow and are not served here; nor are images of private projects, which need a temporary URL.";

/** An image by id or project alias at a path (the API's form or the CDN's). */
const imageRefRouteAt = <const P extends string>(path: P, operationId: string, description: string) =>
  createRoute({
    method: "get",
    path,
    tags: ["Images"],
    operationId,
    summary: "The bytes of the image an id or project alias names (HEAD too): public",
    description,
    middleware: [access.public()],
    security: publicSecurity,
    request: {
      params: z.object({
        organization: z.string().regex(SLUG_PATTERN),
        project: z.string().regex(SLUG_PATTERN),
        ref: z.string().max(60).openapi({
          description: "An image id, or a project alias with its @ (written @name or %40name)",
          example: "@hero-background",
        }),
      }),
      query: TransformQuery,
    },
    responses: {
      ...imageBodyResponses,
      403: problemResponse(
        "Arbitrary sizes, crops and qualities need a signed URL of the image's own address (SIGNATURE_REQUIRED), as does watermark=0 where the project watermarks by default",
      ),
      404: problemResponse("No image of this project has that id or project alias, or the project is private"),
      416: problemResponse("The range starts beyond the end"),
      422: problemResponse(
        "The output would exceed the size limit (OUTPUT_TOO_LARGE), or the stored source cannot be decoded safely (INVALID_IMAGE, IMAGE_TOO_LARGE, UNSUPPORTED_IMAGE_FEATURE)",
      ),
      429: problemResponse(
        `The image has as many variants as allowed (VARIANT_LIMIT), or this client IP address made too many uncached image requests (TOO_MANY_REQUESTS, with Retry-After: ${CLIENT_LIMIT_RETRY_SECONDS} s)`,
      ),
      ...imageUnavailableResponses,
    },
  });

export const imageRefRoute = imageRefRouteAt(
  "/api/images/{organization}/{project}/img/{ref}",
  "getImageByRef",
  `${imageRefDescription} When the deployment has an image CDN host (PUBLIC_CDN_URL), the same URL is /{organization}/{project}/img/{ref} there.`,
);

/** The CDN host's `img/` URL: served by the image delivery Worker only, so the API's document does not list it. */
export const cdnImageRefRoute = imageRefRouteAt(
  "/{organization}/{project}/img/{ref}",
  "getCdnImageByRef",
  `The image delivery Worker's short URL of an image by id or project alias. ${imageRefDescription}`,
);
