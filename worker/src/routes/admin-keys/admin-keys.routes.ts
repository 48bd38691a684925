import { createRoute, z } from "@hono/zod-openapi";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../domain/limits";
import { isUuid, SLUG_PATTERN } from "../../domain/slug";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  listEnvelope,
  problemResponse,
  successEnvelope,
} from "../../lib/openapi";
import { access } from "../../middleware/access";
import { MonthlyBudgetUsdSchema } from "../shared/budget-schemas";
import { idempotent } from "../shared/idempotency";
import { CreatedKeySchema, KeySchema } from "../shared/key-schemas";

const slug = z
  .string()
  .regex(SLUG_PATTERN, "must be 1-63 lower-case letters, digits or inner hyphens")
  // projectId and organizationId read a UUID as an id, so no slug may look like one.
  .refine((value) => !isUuid(value), "must not have the shape of a UUID: projectId and organizationId read those as ids");
/** `projectId` and `organizationId` take the identifier as the user wrote it: the UUID or the slug. */
const idOrSlug = (what: string) =>
  z
    .string()
    .refine((value) => isUuid(value) || SLUG_PATTERN.test(value), {
      message: `must be the ${what}'s UUID or its slug (1-63 lower-case letters, digits or inner hyphens)`,
    })
    .openapi({
      description: `The ${what}'s UUID, or its slug (a slug behaves as ${what}Slug)`,
      example: what === "project" ? "my-project" : "default",
    });
const MAX_KEY_DAYS = 3650;
const MAX_HOURLY_LIMIT = 1_000_000;

const CreateKeyBody = z
  .object({
    type: z.enum(["master", "project"]),
    name: z.string().trim().min(1).max(100),
    expiresInDays: z.number().int().min(1).max(MAX_KEY_DAYS).nullable().optional().openapi({
      description: "Days until the key expires; null for never. Default: 90 for project keys, never for master keys.",
    }),
    rateLimitPerHour: z
      .number()
      .int()
      .min(1)
      .max(MAX_HOURLY_LIMIT)
      .optional()
      .openapi({ description: "Hourly quota; default 100" }),
    monthlyBudgetUsd: MonthlyBudgetUsdSchema.optional(),
    organizationId: idOrSlug("organization").optional(),
    organizationSlug: slug
      .optional()
      .openapi({ description: 'Organization of a project key, created on first use; default "default"' }),
    projectId: idOrSlug("project").optional(),
    projectSlug: slug.optional().openapi({ description: "Project of a project key, created on first use" }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const scoped = ["organizationId", "organizationSlug", "projectId", "projectSlug", "monthlyBudgetUsd"] as const;
    if (body.type === "master") {
      for (const field of scoped) {
        if (body[field] !== undefined)
          ctx.addIssue({
            code: "custom",
            path: [field],
            message:
              field === "monthlyBudgetUsd"
                ? "master keys generate nothing, so they take no budget"
                : "master keys belong to no project",
          });
      }
      return;
    }
    if (!body.projectId && !body.projectSlug) {
      ctx.addIssue({ code: "custom", path: ["projectSlug"], message: "a project key needs projectId or projectSlug" });
    }
    if (body.projectId && body.projectSlug) {
      ctx.addIssue({ code: "custom", path: ["projectSlug"], message: "give projectId or projectSlug, not both" });
    }
    if (body.organizationId && body.organizationSlug) {
      ctx.addIssue({ code: "custom", path: ["organizationSlug"], message: "give organizationId or organizationSlug, not both" });
    }
  })
  .openapi("CreateApiKey");

export const createKeyRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/admin/keys",
    tags: ["Keys"],
    operationId: "createApiKey",
    summary: "Create a master or project key",
    description:
      "The key is in `data.apiKey`, shown this once. `projectId` and `organizationId` take a UUID or a slug; organizations and projects named by slug are created on first use.",
    middleware: [access.master()],
    security: keySecurity,
    request: { body: { content: { "application/json": { schema: CreateKeyBody } }, required: true } },
    responses: {
      201: { description: "The new key", content: { "application/json": { schema: successEnvelope(CreatedKeySchema) } } },
      400: problemResponse("Invalid request"),
      404: problemResponse("The project or organization given by id does not exist"),
      ...keyErrorResponses,
      ...commonErrorResponses,
    },
  }),
);

const ListKeysQuery = z.object({
  projectId: idOrSlug("project").optional(),
  projectSlug: slug.optional(),
  organizationId: idOrSlug("organization").optional(),
  organizationSlug: slug.optional(),
  type: z.enum(["master", "project"]).optional(),
  status: z.enum(["active", "expired", "revoked"]).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().uuid().optional().openapi({ description: "`pagination.nextCursor` of the previous page" }),
});

export const listKeysRoute = createRoute({
  method: "get",
  path: "/api/admin/keys",
  tags: ["Keys"],
  operationId: "listApiKeys",
  summary: "List keys, newest first",
  description: "Never returns a key or its hash, only the display prefix.",
  middleware: [access.master()],
  security: keySecurity,
  request: { query: ListKeysQuery },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: listEnvelope(KeySchema) } } },
    400: problemResponse("Invalid filter"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const revokeKeyRoute = createRoute({
  method: "delete",
  path: "/api/admin/keys/{id}",
  tags: ["Keys"],
  operationId: "revokeApiKey",
  summary: "Revoke a key",
  description:
    "Soft revocation: the key fails from its very next request and stays listed. The last active master key cannot be revoked.",
  middleware: [access.master()],
  security: keySecurity,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: {
      content: { "application/json": { schema: z.object({ reason: z.string().trim().max(500).optional() }).strict() } },
      required: false,
    },
  },
  responses: {
    200: { description: "The revoked key", content: { "application/json": { schema: successEnvelope(KeySchema) } } },
    400: problemResponse("The id is not a UUID, or the body is invalid"),
    404: problemResponse("No key has this id"),
    409: problemResponse("It is the last active master key"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const updateKeyRoute = createRoute({
  method: "patch",
  path: "/api/admin/keys/{id}",
  tags: ["Keys"],
  operationId: "updateApiKey",
  summary: "Set or remove a project key's monthly budget",
  description:
    "A generation whose quoted upper bound would cross the budget (of the key or of its project, whichever is tighter) is refused with 402 BUDGET_EXCEEDED.",
  middleware: [access.master()],
  security: keySecurity,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: {
      content: { "application/json": { schema: z.object({ monthlyBudgetUsd: MonthlyBudgetUsdSchema }).strict() } },
      required: true,
    },
  },
  responses: {
    200: { description: "The key", content: { "application/json": { schema: successEnvelope(KeySchema) } } },
    400: problemResponse("The id is not a UUID, the body is invalid, or the key is a master key"),
    404: problemResponse("No key has this id"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
