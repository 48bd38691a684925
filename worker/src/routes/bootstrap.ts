import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { clientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { commonErrorResponses, databaseErrorResponses, problemResponse, publicSecurity, successEnvelope } from "../lib/openapi";
import { secretsEqual } from "../lib/secrets";
import { access, countFailedAuthentication, refuseThrottledClient } from "../middleware/access";
import type { HonoEnv } from "../middleware/env";
import { bootstrapMasterKey, isBootstrapped } from "../services/keys";
import { createRouter } from "./create-app";
import { CreatedKeySchema, serializeKey } from "./key-schemas";

export const BOOTSTRAP_TOKEN_HEADER = "X-Bootstrap-Token";

const route = createRoute({
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

const statusRoute = createRoute({
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

/** Development keeps the one-call bootstrap; every other environment needs the token. */
function tokenRequired(c: Context<HonoEnv>): boolean {
  return c.var.config.environment !== "development";
}

/**
 * Checks the bootstrap token in constant time. Wrong or missing tokens count as failed
 * authentications, so guessing it is throttled like guessing keys.
 */
async function checkBootstrapToken(c: Context<HonoEnv>): Promise<void> {
  const expected = c.var.config.bootstrapToken;
  if (!expected) {
    // Never silently open: the first caller would own the platform.
    throw new AppError(
      "BOOTSTRAP_NOT_CONFIGURED",
      `Bootstrap outside development needs a BOOTSTRAP_TOKEN secret of at least 32 characters: set it with \`wrangler secret put BOOTSTRAP_TOKEN\` (or in .dev.vars locally), then send it in the ${BOOTSTRAP_TOKEN_HEADER} header`,
    );
  }
  await refuseThrottledClient(c);
  const presented = c.req.header(BOOTSTRAP_TOKEN_HEADER);
  if (!presented) {
    await countFailedAuthentication(c);
    throw new AppError(
      "BOOTSTRAP_TOKEN_REQUIRED",
      `Send the deployment's BOOTSTRAP_TOKEN in the ${BOOTSTRAP_TOKEN_HEADER} header`,
    );
  }
  if (!(await secretsEqual(presented, expected))) {
    await countFailedAuthentication(c);
    throw new AppError(
      "INVALID_BOOTSTRAP_TOKEN",
      `The ${BOOTSTRAP_TOKEN_HEADER} header does not match the deployment's BOOTSTRAP_TOKEN`,
    );
  }
}

export const bootstrapRoutes = createRouter()
  .openapi(route, async (c) => {
    if (tokenRequired(c)) await checkBootstrapToken(c);
    const key = await bootstrapMasterKey(c.var.services.db, clientInfo(c));
    c.header("Cache-Control", "no-store");
    return c.json({ success: true as const, data: serializeKey(key) }, 201);
  })
  .openapi(statusRoute, async (c) => {
    c.header("Cache-Control", "no-store");
    const bootstrapped = await isBootstrapped(c.var.services.db);
    return c.json({ success: true as const, data: { bootstrapped, tokenRequired: tokenRequired(c) } }, 200);
  });
