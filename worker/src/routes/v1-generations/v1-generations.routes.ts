import { createRoute, z } from "@hono/zod-openapi";
import { ASPECT_RATIO_VALUES } from "../../domain/catalog";
import { MAX_LIST_OFFSET, MAX_PAGE_SIZE, MAX_PROMPT_LENGTH, V1_DEFAULT_PAGE_SIZE } from "../../domain/limits";
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
import { acceptedResponseHeaders, PreferHeaders } from "../shared/async-generation";
import { budgetResponseHeaders } from "../shared/generation-budget";
import { idempotent } from "../shared/idempotency";
import { MetaSchema } from "../shared/v1-schemas";
import { CreateGenerationRequestSchema, V1GenerationSchema } from "./v1-generations.schemas";

export const createGenerationRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/v1/generations",
    tags: ["Generations (v1)"],
    operationId: "createGenerationV1",
    summary: "Generate an image, from a prompt and up to 3 reference images",
    description:
      "Banatie's v1 create. referenceImages are image ids or @aliases (technical @last, @first, @upload within the flow, then the flow's aliases, then the project's); @aliases in the prompt that resolve are references too, after the explicit ones, each image once. The references are read from storage and sent to the model before the prompt. Spends one request of the key's hourly quota; with a monthly budget, the quoted upper bound (references included) is reserved first and settled or released as for text-to-image. The answer carries the flowId to continue the flow with (a new one when flowId is omitted).",
    middleware: [access.project({ rateLimited: true })],
    security: keySecurity,
    request: {
      headers: PreferHeaders,
      body: { content: { "application/json": { schema: CreateGenerationRequestSchema } }, required: true },
    },
    responses: {
      201: {
        description:
          "The generation, with its output image and the images it used; with Prefer: wait=N, the asynchronous generation that ended within N seconds (success, or failed with its errorCode)",
        headers: { ...budgetResponseHeaders, ...acceptedResponseHeaders },
        content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
      },
      202: {
        description:
          "With Prefer: respond-async (or a wait=N that ran out): the generation, pending, accepted and queued; its quota and budget are spent, and refunded if it fails or is canceled. Follow it at Location.",
        headers: { ...budgetResponseHeaders, ...acceptedResponseHeaders },
        content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
      },
      400: problemResponse(
        "Invalid request (VALIDATION_ERROR), a reference or alias that is not an id or a valid @alias (ALIAS_FORMAT_CHECK), or more than 3 references (TOO_MANY_REFERENCES)",
      ),
      402: problemResponse(
        "The request's quoted upper bound would cross the monthly budget of the key or its project (BUDGET_EXCEEDED). Nothing was generated.",
      ),
      404: problemResponse(
        "A reference names no image of this project (IMAGE_NOT_FOUND); another project's image is never found",
      ),
      409: problemResponse("The flow already gives flowAlias to another image (ALIAS_CONFLICT); checked before any model call"),
      422: problemResponse(
        "The model refused (CONTENT_BLOCKED) or returned no image (NO_IMAGE), or a stored reference could not be read",
      ),
      502: problemResponse("The model failed or answered something unusable"),
      504: problemResponse("The model did not answer in time"),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      // After the shared responses, whose 503 covers only the database.
      503: problemResponse(
        "The model stayed rate limited (UPSTREAM_RATE_LIMITED), storage is down or did not answer in time (STORAGE_UNAVAILABLE), the isolate is busy fitting other images (TRANSFORM_BUSY, retry shortly), the database is unavailable (DATABASE_UNAVAILABLE), or an asynchronous generation could not be queued (QUEUE_UNAVAILABLE; nothing spent)",
      ),
    },
  }),
);

const GenerationParams = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, example: "9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d" }),
});

const readResponses = { ...keyErrorResponses, ...commonErrorResponses } as const;

export const getGenerationRoute = createRoute({
  method: "get",
  path: "/api/v1/generations/{id}",
  tags: ["Generations (v1)"],
  operationId: "getGenerationV1",
  summary: "One generation, with its output image and the images it used",
  description: "A deleted generation, or another project's, is 404 GENERATION_NOT_FOUND. Spends no quota.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { params: GenerationParams },
  responses: {
    200: { description: "The generation", content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } } },
    400: problemResponse("The id is not a UUID (VALIDATION_ERROR)"),
    404: problemResponse("No such generation in this project (GENERATION_NOT_FOUND)"),
    ...readResponses,
  },
});

/** The list's filters; a flow's sub-list (GET /api/v1/flows/{id}/generations) takes them without flowId. */
export const GenerationListQuery = z.object({
  flowId: z.string().uuid().optional().openapi({ description: "Only this flow's generations" }),
  status: z
    .enum(["pending", "processing", "success", "failed"])
    .optional()
    .openapi({ description: "processing: an asynchronous generation being run" }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(V1_DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).max(MAX_LIST_OFFSET).default(0),
  includeDeleted: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true")
    .openapi({ description: "Include deleted generations, each with its deletedAt" }),
});

export const listGenerationsRoute = createRoute({
  method: "get",
  path: "/api/v1/generations",
  tags: ["Generations (v1)"],
  operationId: "listGenerationsV1",
  summary: "The project's generations, newest first",
  description: "Offset pagination: `total` generations match the filters, `hasMore` when a next page exists. Spends no quota.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { query: GenerationListQuery },
  responses: {
    200: {
      description: "A page of generations",
      content: { "application/json": { schema: offsetListEnvelope(V1GenerationSchema) } },
    },
    400: problemResponse("A filter is invalid (VALIDATION_ERROR), naming it"),
    ...readResponses,
  },
});

export const deleteGenerationRoute = createRoute({
  method: "delete",
  path: "/api/v1/generations/{id}",
  tags: ["Generations (v1)"],
  operationId: "deleteGenerationV1",
  summary: "Delete a generation, and its image unless an alias keeps it",
  description:
    "Soft-deletes the generation (includeDeleted still lists it). Its output image is deleted too (its file removed, its URLs answer 404), unless a project or flow alias points at it, or it is the project's watermark: then it stays, with its aliases. Spends no quota.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { params: GenerationParams },
  responses: {
    200: {
      description: "Deleted; outputImageKept says whether its image stayed",
      content: {
        "application/json": {
          schema: successEnvelope(
            z
              .object({ id: z.string().uuid(), deleted: z.literal(true), outputImageKept: z.boolean() })
              .openapi("DeletedGenerationV1"),
          ),
        },
      },
    },
    400: problemResponse("The id is not a UUID (VALIDATION_ERROR)"),
    404: problemResponse("No such generation in this project (GENERATION_NOT_FOUND)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
    // After the shared responses, whose 503 covers only the database.
    503: problemResponse(
      "Storage is down or did not answer in time (STORAGE_UNAVAILABLE), or the database is (DATABASE_UNAVAILABLE)",
    ),
  },
});

const regenerationResponses = {
  200: {
    description: "The generation, with its image replaced in place: the same image id and storageUrl, new content",
    headers: budgetResponseHeaders,
    content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
  },
  400: problemResponse(
    "Invalid request (VALIDATION_ERROR), naming the field, or the references, found again, are more than 3 (TOO_MANY_REFERENCES)",
  ),
  402: problemResponse("The quoted upper bound would cross the monthly budget (BUDGET_EXCEEDED). Nothing was generated."),
  404: problemResponse(
    "No such generation in this project (GENERATION_NOT_FOUND), or a reference it used is gone (IMAGE_NOT_FOUND)",
  ),
  422: problemResponse(
    "The model refused (CONTENT_BLOCKED) or returned no image (NO_IMAGE); the generation and its image are unchanged",
  ),
  502: problemResponse("The model failed or answered something unusable; the generation and its image are unchanged"),
  504: problemResponse("The model did not answer in time; the generation and its image are unchanged"),
  ...quotaKeyErrorResponses,
  ...commonErrorResponses,
  503: problemResponse(
    "The model stayed rate limited (UPSTREAM_RATE_LIMITED), storage is down (STORAGE_UNAVAILABLE), the isolate is busy fitting other images (TRANSFORM_BUSY), or the database is unavailable (DATABASE_UNAVAILABLE)",
  ),
} as const;

export const regenerateGenerationRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/v1/generations/{id}/regenerate",
    tags: ["Generations (v1)"],
    operationId: "regenerateGenerationV1",
    summary: "Generate again with the same parameters, in place",
    description:
      "The same prompt, ratio and references, with aliases resolved again now (a moved @alias gives its new image; @last never gives this generation's own output). The image keeps its id and storageUrl; its content is replaced. Also works on a failed generation, which gets its first image. Spends one request of the hourly quota and is budgeted as a create.",
    middleware: [access.project({ rateLimited: true })],
    security: keySecurity,
    request: { params: GenerationParams },
    responses: regenerationResponses,
  }),
);

export const UpdateGenerationRequestSchema = z
  .object({
    prompt: z.string().trim().min(1).max(MAX_PROMPT_LENGTH).optional(),
    aspectRatio: z.enum(ASPECT_RATIO_VALUES).optional(),
    flowId: z.string().uuid().nullable().optional(),
    meta: MetaSchema.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "give at least one of prompt, aspectRatio, flowId, meta" })
  .openapi("UpdateGenerationRequest");

export const updateGenerationRoute = createRoute({
  method: "put",
  path: "/api/v1/generations/{id}",
  tags: ["Generations (v1)"],
  operationId: "updateGenerationV1",
  summary: "Change a generation: a new prompt or aspectRatio regenerates it in place",
  description:
    "With prompt or aspectRatio, the generation is regenerated in place as POST …/regenerate does (same image id and storageUrl; spends one request and is budgeted); flowId and meta given with them are written in the regeneration's transaction, so a failed regeneration changes nothing. flowId and meta alone are changed without a model call and spend nothing; a new flowId moves the output image to that flow and drops the old flow's aliases of it.",
  middleware: [access.project({ rateLimited: true })],
  security: keySecurity,
  request: {
    params: GenerationParams,
    body: { content: { "application/json": { schema: UpdateGenerationRequestSchema } }, required: true },
  },
  responses: regenerationResponses,
});

export const cancelGenerationRoute = createRoute({
  method: "post",
  path: "/api/v1/generations/{id}/cancel",
  tags: ["Generations (v1)"],
  operationId: "cancelGenerationV1",
  summary: "Cancel an asynchronous generation that has not started",
  description:
    "A pending asynchronous generation (Prefer: respond-async) is canceled (200): it becomes failed with errorCode GENERATION_CANCELED, its request of the hourly quota and its budget reservation are refunded, and the queue consumer never runs it. One processing is not stopped (202): it runs to its end and its image is discarded, so it ends failed with GENERATION_CANCELED; its quota request stays spent, its budget reservation is released. One that ended, or was made synchronously, is 409 GENERATION_NOT_CANCELABLE. Spends no quota.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { params: GenerationParams },
  responses: {
    200: {
      description: "The canceled generation: failed, errorCode GENERATION_CANCELED, refunded",
      content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
    },
    202: {
      description: "The generation was running: still processing, it will end failed with GENERATION_CANCELED and no image",
      content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
    },
    400: problemResponse("The id is not a UUID (VALIDATION_ERROR)"),
    404: problemResponse("No such generation in this project (GENERATION_NOT_FOUND)"),
    409: problemResponse("The generation has ended, or was not asynchronous (GENERATION_NOT_CANCELABLE); nothing changed"),
    ...readResponses,
  },
});
