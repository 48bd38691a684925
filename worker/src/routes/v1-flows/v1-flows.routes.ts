import { createRoute, z } from "@hono/zod-openapi";
import { MAX_LIST_OFFSET, MAX_PAGE_SIZE, V1_DEFAULT_PAGE_SIZE } from "../../domain/limits";
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
import { budgetResponseHeaders } from "../shared/generation-budget";
import { idempotent } from "../shared/idempotency";
import { FlowSchema, V1ImageSchema } from "../shared/v1-schemas";
import { GenerationListQuery } from "../v1-generations/v1-generations.routes";
import { V1GenerationSchema } from "../v1-generations/v1-generations.schemas";
import { ImageListQuery } from "../v1-images/v1-images.routes";

/** How many aliases one PUT may give: a merge is one transaction holding the project's alias lock. */
export const MAX_FLOW_ALIASES_PER_REQUEST = 20;

const flowParams = z.object({ id: z.string().uuid().openapi({ description: "The flow's id" }) });

const aliasParams = flowParams.extend({
  alias: z.string().max(200).openapi({ description: "The flow alias, with its @ (written @name or %40name)", example: "@hero" }),
});

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(V1_DEFAULT_PAGE_SIZE),
  offset: z.coerce.number().int().min(0).max(MAX_LIST_OFFSET).default(0),
});

export const AliasesBody = z
  .object({
    aliases: z
      .record(z.string(), z.string())
      .refine((aliases) => {
        const count = Object.keys(aliases).length;
        return count >= 1 && count <= MAX_FLOW_ALIASES_PER_REQUEST;
      }, `aliases must hold 1-${MAX_FLOW_ALIASES_PER_REQUEST} entries`)
      .openapi({
        description: `1-${MAX_FLOW_ALIASES_PER_REQUEST} flow aliases, each naming an image by id or @alias (resolved in this flow: technical, flow, then project)`,
        example: { "@hero": "9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d", "@logo": "@brand-logo" },
      }),
  })
  .strict();

const flowResponse = { description: "The flow", content: { "application/json": { schema: successEnvelope(FlowSchema) } } };
const badId = "The id is not a UUID (VALIDATION_ERROR, naming the field)";
const flowKey = { middleware: [access.project({ rateLimited: false })], security: keySecurity, tags: ["Flows"] };

export const listRoute = createRoute({
  method: "get",
  path: "/api/v1/flows",
  operationId: "listFlows",
  summary: "The project's flows, newest first",
  description:
    "Flows with a row: a flow id used once is lazy and is opened by its id (GET /api/v1/flows/{id}). Counts and aliases cover live generations and images.",
  ...flowKey,
  request: { query: ListQuery },
  responses: {
    200: { description: "A page of flows", content: { "application/json": { schema: offsetListEnvelope(FlowSchema) } } },
    400: problemResponse("limit or offset out of range (VALIDATION_ERROR, naming the field)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const getRoute = createRoute({
  method: "get",
  path: "/api/v1/flows/{id}",
  operationId: "getFlow",
  summary: "A flow: its aliases and counts",
  description: "A lazy flow (no row yet) answers from its generations and images.",
  ...flowKey,
  request: { params: flowParams },
  responses: {
    200: flowResponse,
    400: problemResponse(badId),
    404: problemResponse("This project has no such flow (FLOW_NOT_FOUND)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

const flowNotFound = problemResponse("This project has no such flow (FLOW_NOT_FOUND)");

export const listGenerationsRoute = createRoute({
  method: "get",
  path: "/api/v1/flows/{id}/generations",
  operationId: "listFlowGenerations",
  summary: "The flow's generations, newest first",
  description:
    "Exactly GET /api/v1/generations?flowId={id}: the same generation objects, filters and order (newest first, by offset), for a flow of this project; a lazy flow (no row yet) is listed from its generations. Spends no quota.",
  ...flowKey,
  request: { params: flowParams, query: GenerationListQuery.omit({ flowId: true }) },
  responses: {
    200: {
      description: "A page of the flow's generations",
      content: { "application/json": { schema: offsetListEnvelope(V1GenerationSchema) } },
    },
    400: problemResponse(`${badId}, or a filter is invalid (VALIDATION_ERROR, naming it)`),
    404: flowNotFound,
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const listImagesRoute = createRoute({
  method: "get",
  path: "/api/v1/flows/{id}/images",
  operationId: "listFlowImages",
  summary: "The flow's images, newest first",
  description:
    "Exactly GET /api/v1/images?flowId={id}: the same image objects, filters and order (newest first, by offset), for a flow of this project; `alias` is one of the flow's aliases. Spends no quota.",
  ...flowKey,
  request: { params: flowParams, query: ImageListQuery.omit({ flowId: true }) },
  responses: {
    200: {
      description: "A page of the flow's images",
      content: { "application/json": { schema: offsetListEnvelope(V1ImageSchema) } },
    },
    400: problemResponse(`${badId}, an invalid filter (VALIDATION_ERROR, naming it) or alias (ALIAS_FORMAT_CHECK)`),
    404: flowNotFound,
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const putAliasesRoute = createRoute({
  method: "put",
  path: "/api/v1/flows/{id}/aliases",
  operationId: "mergeFlowAliases",
  summary: "Add or update flow aliases (merged with those the flow has)",
  description:
    "Each alias given overwrites the one of the same name; the flow's other aliases stay. A lazy flow gets its row. Every target must be a live image of the project.",
  ...flowKey,
  request: {
    params: flowParams,
    body: { content: { "application/json": { schema: AliasesBody } }, required: true },
  },
  responses: {
    200: flowResponse,
    400: problemResponse(
      `${badId}, no or more than ${MAX_FLOW_ALIASES_PER_REQUEST} aliases (VALIDATION_ERROR), or an alias or target that is not an alias or image id, or a reserved name (ALIAS_FORMAT_CHECK), each named in \`errors\``,
    ),
    404: problemResponse("A target names no live image of this project (IMAGE_NOT_FOUND, naming the alias)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const deleteAliasRoute = createRoute({
  method: "delete",
  path: "/api/v1/flows/{id}/aliases/{alias}",
  operationId: "removeFlowAlias",
  summary: "Remove one flow alias",
  ...flowKey,
  request: { params: aliasParams },
  responses: {
    200: flowResponse,
    400: problemResponse(`${badId}, or the alias is not one (ALIAS_FORMAT_CHECK)`),
    404: problemResponse("This project has no such flow, or the flow no such alias (FLOW_NOT_FOUND)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const deleteRoute = createRoute({
  method: "delete",
  path: "/api/v1/flows/{id}",
  operationId: "deleteFlow",
  summary: "Delete a flow, its generations and its unaliased images",
  description:
    "In one transaction: the flow's generations are deleted; its images are deleted unless an alias outside the flow (a project alias, another flow's) names them, in which case they leave the flow and stay (imagesKept); the flow and its aliases go. Deleted images' URLs answer 404 from then on.",
  ...flowKey,
  request: { params: flowParams },
  responses: {
    200: {
      description: "Deleted",
      content: {
        "application/json": {
          schema: successEnvelope(
            z.object({
              id: z.string().uuid(),
              deleted: z.literal(true),
              imagesKept: z.number().int().openapi({ description: "Images kept because an alias names them, now in no flow" }),
            }),
          ),
        },
      },
    },
    400: problemResponse(badId),
    404: problemResponse("This project has no such flow (FLOW_NOT_FOUND)"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const regenerateRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/v1/flows/{id}/regenerate",
    operationId: "regenerateFlow",
    summary: "Regenerate the flow's newest generation, in place",
    description:
      "Exactly POST /api/v1/generations/{id}/regenerate on the flow's newest live generation: the same prompt, ratio and references, with aliases resolved again now; its image keeps its id and storageUrl, its content is replaced. Spends one request of the hourly quota and is budgeted as a create.",
    tags: ["Flows"],
    middleware: [access.project({ rateLimited: true })],
    security: keySecurity,
    request: { params: flowParams },
    responses: {
      200: {
        description:
          "The regenerated generation, with its image replaced in place: the same image id and storageUrl, new content",
        headers: budgetResponseHeaders,
        content: { "application/json": { schema: successEnvelope(V1GenerationSchema) } },
      },
      400: problemResponse(`${badId}, or the newest generation's references, found again, are more than 3 (TOO_MANY_REFERENCES)`),
      402: problemResponse("The quoted upper bound would cross the monthly budget (BUDGET_EXCEEDED). Nothing was generated."),
      404: problemResponse(
        "This project has no such flow (FLOW_NOT_FOUND), the flow has no live generation to regenerate (GENERATION_NOT_FOUND: it holds only uploads, or its generations were deleted), or a reference it used is gone (IMAGE_NOT_FOUND)",
      ),
      422: problemResponse(
        "The model refused (CONTENT_BLOCKED) or returned no image (NO_IMAGE); the generation and its image are unchanged",
      ),
      502: problemResponse("The model failed or answered something unusable; the generation and its image are unchanged"),
      504: problemResponse("The model did not answer in time; the generation and its image are unchanged"),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      // After the shared responses, whose 503 covers only the database.
      503: problemResponse(
        "The model stayed rate limited (UPSTREAM_RATE_LIMITED), storage is down (STORAGE_UNAVAILABLE), the isolate is busy fitting other images (TRANSFORM_BUSY), or the database is unavailable (DATABASE_UNAVAILABLE)",
      ),
    },
  }),
);
