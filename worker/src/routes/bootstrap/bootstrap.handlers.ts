import type { Context } from "hono";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { secretsEqual } from "../../lib/secrets";
import { countFailedAuthentication, refuseThrottledClient } from "../../middleware/access";
import type { HonoEnv } from "../../middleware/env";
import { bootstrapMasterKey, isBootstrapped } from "../../services/keys";
import type { AppRouteHandler } from "../create-app";
import { serializeKey } from "../shared/key-schemas";
import { BOOTSTRAP_TOKEN_HEADER, type bootstrapRoute, type bootstrapStatusRoute } from "./bootstrap.routes";

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

export const bootstrap: AppRouteHandler<typeof bootstrapRoute> = async (c) => {
  if (tokenRequired(c)) await checkBootstrapToken(c);
  const key = await bootstrapMasterKey(c.var.services.db, clientInfo(c));
  c.header("Cache-Control", "no-store");
  return c.json({ success: true as const, data: serializeKey(key) }, 201);
};

export const getBootstrapStatus: AppRouteHandler<typeof bootstrapStatusRoute> = async (c) => {
  c.header("Cache-Control", "no-store");
  const bootstrapped = await isBootstrapped(c.var.services.db);
  return c.json({ success: true as const, data: { bootstrapped, tokenRequired: tokenRequired(c) } }, 200);
};
