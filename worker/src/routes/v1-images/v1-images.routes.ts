import { createRoute, z } from "@hono/zod-openapi";
import {
  MAX_ALIAS_LENGTH,
  MAX_LIST_OFFSET,
  MAX_META_BYTES,
  MAX_PAGE_SIZE,
  MAX_UPLOAD_BYTES,
  V1_DEFAULT_PAGE_SIZE,
} from "../../domain/limits";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  offsetListEnvelope,
  problemResponse,
  quotaKeyErrorResponses,
  successEnvelope,
} from "../../lib/openapi";
import { access } from "../../middleware/access";
import { uploadLimit } from "../../middleware/upload-limit";
import { idempotent } from "../shared/idempotency";
import { FocalPointSchema, MetaSchema, V1ImageSchema } from "../shared/v1-schemas";

const ALIAS_DESCRIPTION = `@ and 1-${MAX_ALIAS_LENGTH - 1} letters, digits, "_" or "-"`;

const UploadForm = z.object({
  file: z
    .custom<File>((value) => value instanceof File, "must be a file")
    .openapi({ type: "string", format: "binary", description: `PNG, JPEG or WebP, at most ${MAX_UPLOAD_BYTES} bytes` }),
  alias: z
    .string()
    .optional()
    .openapi({
      description: `A project alias (${ALIAS_DESCRIPTION}); it moves here from any image that has it`,
      example: "@brand-logo",
    }),
  flowId: z
    .union([z.string().uuid(), z.literal("null")])
    .optional()
    .openapi({
      description: 'The flow the image joins (its row is written on first use); "null" for none; omitted, a new flow id',
    }),
  flowAlias: z
    .string()
    .optional()
    .openapi({ description: `An alias within the flow (${ALIAS_DESCRIPTION})`, example: "@hero" }),
  meta: z
    .string()
    .optional()
    .openapi({ description: `A JSON object as text, at most ${MAX_META_BYTES} bytes`, example: '{"campaign":"spring"}' }),
});

/** The v1 image, and how an `@alias` lookup found it (null for a lookup by id). */
const ResolvedImageSchema = V1ImageSchema.extend({
  resolution: z
    .object({
      alias: z.string(),
      scope: z.enum(["technical", "flow", "project"]),
      flowId: z.string().uuid().nullable().openapi({ description: "The flow a technical or flow alias was resolved in" }),
    })
    .nullable(),
}).openapi("ResolvedV1Image");

const imageResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: successEnvelope(V1ImageSchema) } },
});
const resolvedResponse = {
  description: "The image",
  content: { "application/json": { schema: successEnvelope(ResolvedImageSchema) } },
};

const idParams = z.object({ id: z.string().uuid() });
const refParams = z.object({
  id: z.string().openapi({ description: "An image id, or an @alias", example: "@brand-logo" }),
});
const flowQuery = z.object({
  flowId: z.string().uuid().optional().openapi({ description: "The flow in which technical and flow aliases resolve" }),
});
const notFound = problemResponse("No such image in this project (IMAGE_NOT_FOUND)");
const badReference = problemResponse(
  "Neither an image id nor an @alias (ALIAS_FORMAT_CHECK), or an invalid field (VALIDATION_ERROR)",
);
const readAccess = [access.project({ rateLimited: false })];

export const uploadRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/v1/images/upload",
    tags: ["Images"],
    operationId: "uploadV1Image",
    summary: "Upload an image (v1)",
    description:
      "Checked like POST /api/upload and stored as an upload, with its aliases, flow and meta in the same transaction. Spends one request of the quota.",
    middleware: [access.project({ rateLimited: true }), uploadLimit()],
    security: keySecurity,
    request: { body: { content: { "multipart/form-data": { schema: UploadForm } }, required: true } },
    responses: {
      201: imageResponse("The stored image"),
      400: problemResponse("No file, an invalid field (VALIDATION_ERROR: meta, flowId, flowAlias) or alias (ALIAS_FORMAT_CHECK)"),
      409: problemResponse("The flow already gives flowAlias to another image (ALIAS_CONFLICT)"),
      415: problemResponse("Not PNG, JPEG or WebP (UNSUPPORTED_FILE_TYPE)"),
      422: problemResponse(
        "Truncated, padded or ambiguous file (INVALID_IMAGE), too many pixels (IMAGE_TOO_LARGE), or an unsupported feature (UNSUPPORTED_IMAGE_FEATURE)",
      ),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      503: problemResponse(
        "Storage is down or did not answer in time (STORAGE_UNAVAILABLE), or the database is (DATABASE_UNAVAILABLE)",
      ),
      413: problemResponse(
        "Larger than 5 MB (FILE_TOO_LARGE), or a body that is not multipart over the request limit (PAYLOAD_TOO_LARGE)",
      ),
    },
  }),
);

/** The list's filters; a flow's sub-list (GET /api/v1/flows/{id}/images) takes them without flowId. */
export const ImageListQuery = z.object({
  flowId: z.string().uuid().optional(),
  source: z.enum(["generated", "uploaded"]).optional(),
  alias: z.string().optional().openapi({ description: "Exactly this alias: the project's, or the flow's when flowId is given" }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(V1_DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).max(MAX_LIST_OFFSET).default(0),
  includeDeleted: z.enum(["true", "false"]).default("false").openapi({ description: "Also list deleted images" }),
});

export const listRoute = createRoute({
  method: "get",
  path: "/api/v1/images",
  tags: ["Images"],
  operationId: "listV1Images",
  summary: "The project's images (v1)",
  description: "Newest first, by offset.",
  middleware: readAccess,
  security: keySecurity,
  request: { query: ImageListQuery },
  responses: {
    200: { description: "A page of images", content: { "application/json": { schema: offsetListEnvelope(V1ImageSchema) } } },
    400: problemResponse("An invalid filter (VALIDATION_ERROR) or alias (ALIAS_FORMAT_CHECK)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const resolveRoute = createRoute({
  method: "get",
  path: "/api/v1/images/resolve/{alias}",
  tags: ["Images"],
  operationId: "resolveV1ImageAlias",
  summary: "The image an alias names now (v1)",
  description: "Technical aliases (with flowId), then the flow's aliases (with flowId), then the project's.",
  middleware: readAccess,
  security: keySecurity,
  request: {
    params: z.object({ alias: z.string().openapi({ example: "@brand-logo" }) }),
    query: flowQuery,
  },
  responses: {
    200: resolvedResponse,
    400: problemResponse("Not an @alias (ALIAS_FORMAT_CHECK), or an invalid flowId (VALIDATION_ERROR)"),
    404: notFound,
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const getRoute = createRoute({
  method: "get",
  path: "/api/v1/images/{id}",
  tags: ["Images"],
  operationId: "getV1Image",
  summary: "An image by id or @alias (v1)",
  middleware: readAccess,
  security: keySecurity,
  request: { params: refParams, query: flowQuery },
  responses: { 200: resolvedResponse, 400: badReference, 404: notFound, ...keyErrorResponses, ...commonErrorResponses },
});

export const UpdateBody = z
  .object({
    focalPoint: FocalPointSchema.nullable().optional().openapi({ description: "Null removes it" }),
    meta: MetaSchema.optional().openapi({ description: "Replaces the image's meta" }),
  })
  .strict()
  .refine((body) => body.focalPoint !== undefined || body.meta !== undefined, {
    message: "give focalPoint, meta or both",
  });

export const updateRoute = createRoute({
  method: "put",
  path: "/api/v1/images/{id}",
  tags: ["Images"],
  operationId: "updateV1Image",
  summary: "Set an image's focal point and meta (v1)",
  description: "The focal point is the default gravity of cover crops of the image.",
  middleware: readAccess,
  security: keySecurity,
  request: {
    params: refParams,
    query: flowQuery,
    body: { content: { "application/json": { schema: UpdateBody } }, required: true },
  },
  responses: { 200: imageResponse("The image"), 400: badReference, 404: notFound, ...keyErrorResponses, ...commonErrorResponses },
});

export const aliasRoute = createRoute({
  method: "put",
  path: "/api/v1/images/{id}/alias",
  tags: ["Images"],
  operationId: "setV1ImageAlias",
  summary: "Give an image a project alias, or remove it (v1)",
  description: "An alias another image has moves to this one: the last writer wins.",
  middleware: readAccess,
  security: keySecurity,
  request: {
    params: idParams,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              alias: z
                .string()
                .nullable()
                .openapi({ description: `${ALIAS_DESCRIPTION}; null removes it`, example: "@hero" }),
            })
            .strict(),
        },
      },
      required: true,
    },
  },
  responses: {
    200: imageResponse("The image"),
    400: problemResponse("An invalid id or body (VALIDATION_ERROR), or alias (ALIAS_FORMAT_CHECK)"),
    404: notFound,
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const deleteRoute = createRoute({
  method: "delete",
  path: "/api/v1/images/{id}",
  tags: ["Images"],
  operationId: "deleteV1Image",
  summary: "Delete an image (v1)",
  description:
    "As DELETE /api/images/{id}, and every alias naming the image goes with it. Generations that used it as a reference keep that record.",
  middleware: readAccess,
  security: keySecurity,
  request: { params: idParams },
  responses: {
    200: {
      description: "Deleted",
      content: { "application/json": { schema: successEnvelope(z.object({ id: z.string().uuid(), deleted: z.literal(true) })) } },
    },
    400: problemResponse("The id is not a UUID"),
    404: notFound,
    409: problemResponse("The image is the project's watermark (IMAGE_IN_USE)"),
    ...keyErrorResponses,
    503: problemResponse(
      "Object storage did not delete the image (STORAGE_UNAVAILABLE): it is intact; retry. Or the database is down or did not answer in time (DATABASE_UNAVAILABLE); retry after Retry-After seconds",
    ),
    ...commonErrorResponses,
  },
});
