import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, successEnvelope } from "../lib/openapi";
import { access, authorize } from "../middleware/access";
import { createRouter } from "./create-app";

const Scope = z.object({ id: z.string().uuid(), slug: z.string() }).nullable();

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
  })
  .openapi("Me");

const route = createRoute({
  method: "get",
  path: "/api/me",
  tags: ["Keys"],
  operationId: "getMe",
  summary: "The key you are calling with: its project and this hour's quota",
  description: "Checks a key without spending quota.",
  middleware: [access.anyKey()],
  security: keySecurity,
  responses: {
    200: { description: "The calling key", content: { "application/json": { schema: successEnvelope(MeSchema) } } },
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const meRoutes = createRouter().openapi(route, async (c) => {
  const caller = await authorize(c);
  const { quota } = caller;
  return c.json(
    {
      success: true as const,
      data: {
        keyId: caller.keyId,
        type: caller.type,
        name: caller.name,
        prefix: caller.prefix,
        organization: caller.organization,
        project: caller.project,
        quota: {
          limit: quota.limit,
          used: Math.min(quota.used, quota.limit),
          remaining: Math.max(0, quota.limit - quota.used),
          resetAt: quota.resetAt.toISOString(),
        },
      },
    },
    200,
  );
});
