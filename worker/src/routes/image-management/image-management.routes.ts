import { createRoute, z } from "@hono/zod-openapi";
import { MAX_TEMPORARY_URL_SECONDS } from "../../delivery/signed-url";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS } from "../../domain/catalog";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../domain/limits";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  listEnvelope,
  problemResponse,
  successEnvelope,
} from "../../lib/openapi";
import { access } from "../../middleware/access";
import { ImageUrlSchema, SignedImageUrlSchema } from "../shared/image-url-schemas";

const ImageSchema = z
  .object({
    id: z.string().uuid(),
    url: ImageUrlSchema,
    category: z.enum(["generated", "uploads", "references"]),
    mimeType: z.string(),
    bytes: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    aspectRatio: z.string().nullable(),
    sha256: z.string(),
    filename: z.string().nullable(),
    createdAt: z.string().datetime(),
    prompt: z.string().nullable().openapi({ description: "Generated images: the prompt as written" }),
    enhancedPrompt: z.string().nullable().openapi({ description: "Generated images: the prompt the model received" }),
    template: z.string().nullable(),
    model: z.string().nullable(),
    alias: z.string().nullable().openapi({ description: "The image's project alias (see /api/v1/images)" }),
    flowId: z.string().uuid().nullable().openapi({ description: "The flow the image belongs to" }),
  })
  .openapi("Image");

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().uuid().optional().openapi({ description: "`pagination.nextCursor` of the previous page" }),
  createdAfter: z.string().datetime({ offset: true }).optional(),
  createdBefore: z.string().datetime({ offset: true }).optional(),
  format: z.enum(OUTPUT_FORMATS).optional(),
  aspectRatio: z.enum(ASPECT_RATIO_VALUES).optional(),
  q: z
    .string()
    .trim()
    .min(2)
    .max(200)
    .optional()
    .openapi({ description: "Text in a prompt or filename (at least 2 characters)" }),
});

/** The uploads list also filters by category: uploads, references, or both (the default). */
const UploadsQuery = ListQuery.extend({
  category: z.enum(["uploads", "references"]).optional().openapi({ description: "Default: both" }),
});

/** The two lists differ only in their path, name and query; each route keeps its own query's type. */
function listRoute<Query extends typeof ListQuery | typeof UploadsQuery>(
  path: "/api/images/generated" | "/api/images/uploads",
  operationId: string,
  summary: string,
  query: Query,
) {
  return createRoute({
    method: "get",
    path,
    tags: ["Images"],
    operationId,
    summary,
    description: "Newest first, by cursor: pages stay stable while new images arrive.",
    middleware: [access.project({ rateLimited: false })],
    security: keySecurity,
    request: { query },
    responses: {
      200: { description: "A page of images", content: { "application/json": { schema: listEnvelope(ImageSchema) } } },
      400: problemResponse("Invalid filter"),
      ...keyErrorResponses,
      ...commonErrorResponses,
    },
  });
}

export const listGeneratedRoute = listRoute(
  "/api/images/generated",
  "listGeneratedImages",
  "The project's generated images",
  ListQuery,
);
export const listUploadsRoute = listRoute(
  "/api/images/uploads",
  "listUploadedImages",
  "The project's uploaded images",
  UploadsQuery,
);

const idParams = z.object({ id: z.string().uuid() });

export const temporaryUrlRoute = createRoute({
  method: "post",
  path: "/api/images/{id}/temporary-url",
  tags: ["Images"],
  operationId: "createTemporaryUrl",
  summary: "A signed URL to an image that expires",
  description: "The only way to serve images of a private project. Anyone with the URL can fetch the image until it expires.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: {
    params: idParams,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              expiresIn: z
                .number()
                .int()
                .min(1)
                .max(MAX_TEMPORARY_URL_SECONDS)
                .default(3600)
                .openapi({ description: "Seconds, up to 7 days" }),
            })
            .strict(),
        },
      },
      required: false,
    },
  },
  responses: {
    201: {
      description: "The URL",
      content: {
        "application/json": {
          schema: successEnvelope(z.object({ url: SignedImageUrlSchema, expiresAt: z.string().datetime() })),
        },
      },
    },
    400: problemResponse("The id is not a UUID, or expiresIn is invalid"),
    404: problemResponse("No such image in this project"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const transformUrlRoute = createRoute({
  method: "post",
  path: "/api/images/{id}/transform-url",
  tags: ["Images"],
  operationId: "createTransformUrl",
  summary: "A signed URL to a transformed variant of an image",
  description:
    "Arbitrary sizes, crops and qualities need a signature (presets do not). The signature covers the path and the options in canonical order, so the URL serves exactly that variant. It never expires unless expiresIn is given; for images of private projects it always expires (default one hour).",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: {
    params: idParams,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              options: z
                .string()
                .min(1)
                .max(500)
                .openapi({ description: "Transformation options as a query string", example: "w=500&format=webp&q=75" }),
              expiresIn: z.number().int().min(1).max(MAX_TEMPORARY_URL_SECONDS).optional(),
            })
            .strict(),
        },
      },
      required: true,
    },
  },
  responses: {
    201: {
      description: "The URL",
      content: {
        "application/json": {
          schema: successEnvelope(
            z.object({ url: SignedImageUrlSchema, options: z.string(), expiresAt: z.string().datetime().nullable() }),
          ),
        },
      },
    },
    400: problemResponse("An invalid transformation option (INVALID_TRANSFORM), or an invalid id or body"),
    404: problemResponse("No such image in this project"),
    422: problemResponse("The variant would exceed the size limit (OUTPUT_TOO_LARGE), so serving it would fail"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const deleteRoute = createRoute({
  method: "delete",
  path: "/api/images/{id}",
  tags: ["Images"],
  operationId: "deleteImage",
  summary: "Delete an image",
  description: "Removes the object, marks the row deleted and purges the edge cache: the URL answers 404 from then on.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { params: idParams },
  responses: {
    200: {
      description: "Deleted",
      content: { "application/json": { schema: successEnvelope(z.object({ id: z.string().uuid(), deleted: z.literal(true) })) } },
    },
    400: problemResponse("The id is not a UUID"),
    404: problemResponse("No such image in this project"),
    409: problemResponse("The image is the project's watermark (IMAGE_IN_USE)"),
    ...keyErrorResponses,
    503: problemResponse(
      "Object storage did not delete the image (STORAGE_UNAVAILABLE): it is intact; retry. Or the database is down or did not answer in time (DATABASE_UNAVAILABLE); retry after Retry-After seconds",
    ),
    ...commonErrorResponses,
  },
});
