import { z } from "@hono/zod-openapi";

const WHERE_IMAGE_URLS_POINT =
  "on the image CDN host when the deployment has one (PUBLIC_CDN_URL: {PUBLIC_CDN_URL}/{organization}/{project}/{category}/{file}), else on this API (/api/images/{organization}/{project}/{category}/{file})";

/** An image's public URL, as every response that carries one describes it. */
export const ImageUrlSchema = z
  .string()
  .url()
  .openapi({ description: `The image's public URL, ${WHERE_IMAGE_URLS_POINT}; transformation options may be appended` });

/** A signed URL (temporary or a variant's), which the CDN host verifies as the API does. */
export const SignedImageUrlSchema = z
  .string()
  .url()
  .openapi({ description: `The signed URL, ${WHERE_IMAGE_URLS_POINT}; both hosts verify its signature` });
