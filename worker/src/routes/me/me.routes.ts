import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

const Scope = z.object({ id: z.string().uuid(), slug: z.string() }).nullable();

const BudgetSchema = z
  .object({
    monthlyBudgetUsd: z.number(),
    spentUsd: z.number().openapi({ description: "Settled spending this month" }),
    reservedUsd: z.number().openapi({ description: "Held by generations still running, at their quoted upper bound" }),
    remainingUsd: z.number(),
    softThreshold: z.number().openapi({ description: "Share of the budget whose spending is recorded in the audit trail" }),
    thresholdReached: z.boolean().openapi({ description: "Spending reached the soft threshold this month" }),
    resetAt: z.string().datetime().openapi({ description: "Start of the next calendar month (UTC)" }),
  })
  .nullable()
  .openapi("Budget", { description: "Null when no monthly budget is set" });

const MeSchema = z
  .object({
    keyId: z.string().uuid(),
    type: z.enum(["master", "project"]),
    name: z.string(),
    prefix: z.string(),
    organization: Scope,
    project: Scope,
    quota: z.object({
      limit: z.number().int(),
      used: z.number().int(),
      remaining: z.number().int(),
      resetAt: z.string().datetime(),
    }),
    budgets: z.object({ key: BudgetSchema, project: BudgetSchema }).openapi({
      description: "This month's spending against the monthly budgets of the key and of its project",
    }),
  })
  .openapi("Me");

export const meRoute = createRoute({
  method: "get",
  path: "/api/me",
  tags: ["Keys"],
  operationId: "getMe",
  summary: "The key you are calling with: its project, this hour's quota and this month's budgets",
  description: "Checks a key without spending quota.",
  middleware: [access.anyKey()],
  security: keySecurity,
  responses: {
    200: { description: "The calling key", content: { "application/json": { schema: successEnvelope(MeSchema) } } },
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
