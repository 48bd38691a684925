import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { MonthlyBudgetUsdSchema } from "../shared/budget-schemas";

const UpdateProjectBody = z
  .object({
    private: z.boolean().optional(),
    monthlyBudgetUsd: MonthlyBudgetUsdSchema.optional(),
  })
  .strict()
  .refine((body) => body.private !== undefined || body.monthlyBudgetUsd !== undefined, {
    message: "give private, monthlyBudgetUsd, or both",
    path: ["private"],
  });

export const updateProjectRoute = createRoute({
  method: "patch",
  path: "/api/admin/projects/{id}",
  tags: ["Keys"],
  operationId: "updateProject",
  summary: "Make a project's images private or public, or set its monthly budget",
  description:
    "Images of a private project are served only through temporary URLs; making a project private purges its images from the edge cache. A generation whose quoted upper bound would cross the project's monthly budget (or its key's, whichever is tighter) is refused with 402 BUDGET_EXCEEDED.",
  middleware: [access.master()],
  security: keySecurity,
  request: {
    params: z.object({ id: z.string().uuid() }),
    body: { content: { "application/json": { schema: UpdateProjectBody } }, required: true },
  },
  responses: {
    200: {
      description: "The project",
      content: {
        "application/json": {
          schema: successEnvelope(
            z.object({
              id: z.string().uuid(),
              slug: z.string(),
              private: z.boolean(),
              monthlyBudgetUsd: z.number().nullable().openapi({ description: "Monthly spending cap in USD; null for none" }),
            }),
          ),
        },
      },
    },
    400: problemResponse("The id is not a UUID, or the body is invalid"),
    404: problemResponse("No such project"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
