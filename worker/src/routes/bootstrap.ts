import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../lib/create-app";
import { commonErrorResponses, problemResponse, successEnvelope } from "../lib/openapi";
import { access, clientInfo } from "../middleware/access";
import { bootstrapMasterKey } from "../services/keys";
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
  responses: {
    201: { description: "The first master key", content: { "application/json": { schema: successEnvelope(CreatedKeySchema) } } },
    403: problemResponse("A master key already exists"),
    ...commonErrorResponses,
  },
});

export const bootstrapRoutes = createRouter().openapi(route, async (c) => {
  const key = await bootstrapMasterKey(c.var.services.db, clientInfo(c));
  c.header("Cache-Control", "no-store");
  return c.json({ success: true as const, data: serializeKey(key) }, 201);
});
