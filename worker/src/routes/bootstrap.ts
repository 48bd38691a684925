import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/create-app";
import { commonErrorResponses, problemResponse, publicSecurity, successEnvelope } from "../lib/openapi";
import { access, clientInfo } from "../middleware/access";
import { bootstrapMasterKey, isBootstrapped } from "../services/keys";
import { CreatedKeySchema, serializeKey } from "./key-schemas";

const route = createRoute({
  method: "post",
  path: "/api/bootstrap/initial-key",
  tags: ["Keys"],
  operationId: "bootstrapInitialKey",
  summary: "Create the first master key",
  description:
    "Works once, on a platform with no master key: returns the key, shown this one time only. Afterwards it answers 403 BOOTSTRAP_COMPLETED.",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    201: { description: "The first master key", content: { "application/json": { schema: successEnvelope(CreatedKeySchema) } } },
    403: problemResponse("A master key already exists"),
    ...commonErrorResponses,
    503: problemResponse("The database could not be reached (DATABASE_UNAVAILABLE)"),
  },
});

const statusRoute = createRoute({
  method: "get",
  path: "/api/bootstrap/status",
  tags: ["Keys"],
  operationId: "getBootstrapStatus",
  summary: "Whether the first master key has been created",
  description: "Lets a setup page say whether bootstrapping is still possible before trying it.",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: {
      description: "The platform's bootstrap state",
      content: { "application/json": { schema: successEnvelope(z.object({ bootstrapped: z.boolean() })) } },
    },
    ...commonErrorResponses,
    503: problemResponse("The database could not be reached (DATABASE_UNAVAILABLE)"),
  },
});

export const bootstrapRoutes = createRouter()
  .openapi(route, async (c) => {
    const key = await bootstrapMasterKey(c.var.services.db, clientInfo(c));
    c.header("Cache-Control", "no-store");
    return c.json({ success: true as const, data: serializeKey(key) }, 201);
  })
  .openapi(statusRoute, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ success: true as const, data: { bootstrapped: await isBootstrapped(c.var.services.db) } }, 200);
  });
