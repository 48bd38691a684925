import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

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

export const meRoute = createRoute({
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
