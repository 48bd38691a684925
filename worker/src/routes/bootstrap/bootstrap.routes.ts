import { createRoute, z } from "@hono/zod-openapi";
import {
  commonErrorResponses,
  databaseErrorResponses,
  problemResponse,
  publicSecurity,
  successEnvelope,
} from "../../lib/openapi";
import { access } from "../../middleware/access";
import { CreatedKeySchema } from "../shared/key-schemas";

export const BOOTSTRAP_TOKEN_HEADER = "X-Bootstrap-Token";

export const bootstrapRoute = createRoute({
  method: "post",
  path: "/api/bootstrap/initial-key",
  tags: ["Keys"],
  operationId: "bootstrapInitialKey",
  summary: "Create the first master key",
  description: `Works once, on a platform with no master key: returns the key, shown this one time only. Afterwards it answers 403 BOOTSTRAP_COMPLETED. Outside development it needs the deployment's BOOTSTRAP_TOKEN secret in the ${BOOTSTRAP_TOKEN_HEADER} header; GET /api/bootstrap/status says whether it does.`,
  middleware: [access.public()],
  request: {
    headers: z.object({
      [BOOTSTRAP_TOKEN_HEADER.toLowerCase()]: z
        .string()
        .optional()
        .openapi({ description: "The BOOTSTRAP_TOKEN secret; required unless ENVIRONMENT is development" }),
    }),
  },
  security: publicSecurity,
  responses: {
    201: { description: "The first master key", content: { "application/json": { schema: successEnvelope(CreatedKeySchema) } } },
    401: problemResponse(`No ${BOOTSTRAP_TOKEN_HEADER} header, and this deployment needs one (BOOTSTRAP_TOKEN_REQUIRED)`),
    403: problemResponse(
      "A master key already exists (BOOTSTRAP_COMPLETED), or the bootstrap token is wrong (INVALID_BOOTSTRAP_TOKEN)",
    ),
    429: problemResponse("Too many failed attempts from this client (AUTH_THROTTLED)"),
    ...databaseErrorResponses,
    ...commonErrorResponses,
  },
});

export const bootstrapStatusRoute = createRoute({
  method: "get",
  path: "/api/bootstrap/status",
  tags: ["Keys"],
  operationId: "getBootstrapStatus",
  summary: "Whether the first master key has been created",
  description: "Lets a setup page say whether bootstrapping is still possible, and whether it needs the token, before trying it.",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: {
      description: "The platform's bootstrap state",
      content: {
        "application/json": {
          schema: successEnvelope(
            z.object({
              bootstrapped: z.boolean(),
              tokenRequired: z.boolean().openapi({ description: `Bootstrapping needs the ${BOOTSTRAP_TOKEN_HEADER} header` }),
            }),
          ),
        },
      },
    },
    ...databaseErrorResponses,
    ...commonErrorResponses,
  },
});
