import { createRoute, z } from "@hono/zod-openapi";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../../delivery/client-limit";
import { PROBLEM_CONTENT_TYPE } from "../../lib/errors";
import {
  commonErrorResponses,
  keyErrorResponses,
  keySecurity,
  ProblemSchema,
  problemResponse,
  publicSecurity,
} from "../../lib/openapi";
import { access } from "../../middleware/access";

const HealthSchema = z
  .object({
    status: z.literal("ok"),
    timestamp: z.string().datetime(),
    version: z.string(),
    environment: z.string(),
  })
  .openapi("Health");

export const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["System"],
  operationId: "getHealth",
  summary: "Whether the Worker is up",
  description:
    "Shallow and cheap: it calls neither the database nor storage nor the model, so load balancers and uptime monitors may call it often. Both Workers answer it (the API's and the image delivery Worker's). The deep check of the dependencies is GET /api/admin/health, with a master key. Browsers and CDNs never cache it (no-store). Limited per client IP address (429).",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: { description: "The Worker is up", content: { "application/json": { schema: HealthSchema } } },
    429: problemResponse(
      `Too many health checks from this client IP address (TOO_MANY_REQUESTS); Retry-After says when to retry (${CLIENT_LIMIT_RETRY_SECONDS} s)`,
    ),
    ...commonErrorResponses,
  },
});

const DependencyCheckSchema = z.object({
  status: z.enum(["up", "down"]),
  latencyMs: z.number().int().nonnegative(),
  error: z.string().optional().openapi({ description: "Why it is down, without hosts or credentials" }),
});

const DeepHealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    timestamp: z.string().datetime(),
    version: z.string(),
    environment: z.string(),
    checks: z.object({
      database: DependencyCheckSchema,
      storage: DependencyCheckSchema,
      model: DependencyCheckSchema.extend({
        provider: z.enum(["gemini", "preview"]),
        model: z.string(),
      }).openapi({
        description:
          "The image model's service, asked for the model's metadata (free: nothing is generated); the offline preview model is always up",
      }),
    }),
  })
  .openapi("DeepHealth");

export const deepHealthRoute = createRoute({
  method: "get",
  path: "/api/admin/health",
  tags: ["System"],
  operationId: "getDeepHealth",
  summary: "Status of the database, object storage and the image model",
  description:
    "Probes each dependency in parallel, each within a few seconds, and answers 200 when all are up and 503 naming the one that is down. It spends no quota and no money. Never cached (no-store).",
  middleware: [access.master()],
  security: keySecurity,
  responses: {
    200: { description: "Everything is up", content: { "application/json": { schema: DeepHealthSchema } } },
    ...keyErrorResponses,
    503: {
      description:
        "A dependency is down (the report names it), or the database is down so the key could not be checked (DATABASE_UNAVAILABLE, with Retry-After)",
      content: {
        "application/json": { schema: DeepHealthSchema },
        [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema },
      },
    },
    ...commonErrorResponses,
  },
});
