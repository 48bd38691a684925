import { createRoute, z } from "@hono/zod-openapi";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../../delivery/client-limit";
import { commonErrorResponses, problemResponse, publicSecurity } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { HEALTH_REPORT_TTL_MS } from "../../services/health";

const DependencyCheckSchema = z.object({
  status: z.enum(["up", "down"]),
  latencyMs: z.number().int().nonnegative(),
  error: z.string().optional(),
});

const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    timestamp: z.string().datetime(),
    version: z.string(),
    environment: z.string(),
    checks: z.object({ database: DependencyCheckSchema, storage: DependencyCheckSchema }),
  })
  .openapi("Health");

export const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["System"],
  operationId: "getHealth",
  summary: "Status of the Worker, the database and object storage",
  description: `Answers 200 when every dependency is up and 503 when one is down. Each server reuses its last check for ${HEALTH_REPORT_TTL_MS / 1000} s; browsers and CDNs never cache it (no-store). Limited per client IP address (429).`,
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: { description: "Everything is up", content: { "application/json": { schema: HealthSchema } } },
    503: { description: "A dependency is down", content: { "application/json": { schema: HealthSchema } } },
    429: problemResponse(
      `Too many health checks from this client IP address (TOO_MANY_REQUESTS); Retry-After says when to retry (${CLIENT_LIMIT_RETRY_SECONDS} s)`,
    ),
    ...commonErrorResponses,
  },
});
