import type { Context } from "hono";
import { clientAddressBlock, clientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import type { HonoEnv } from "../middleware/env";

/** The period of PUBLIC_IP_LIMITER (wrangler.toml): a refused client may try again after it. */
export const CLIENT_LIMIT_RETRY_SECONDS = 10;

/**
 * Public work that reaches the database, storage or the CPU, limited per client address. Each
 * kind has a budget of its own, so health checks never use up a page's images.
 */
const PUBLIC_WORK = {
  "image-miss": "Too many uncached image requests from this address",
  health: "Too many health checks from this address",
} as const;

/**
 * Spends one unit of the client's budget for `work`, or refuses with 429 and Retry-After. Call
 * it where a public request stops being a cache hit: hits cost nothing and are never limited.
 */
export async function spendClientBudget(c: Context<HonoEnv>, work: keyof typeof PUBLIC_WORK): Promise<void> {
  // CF-Connecting-IP is set by Cloudflare's edge; without it (never in production) all share one
  // budget. An IPv6 client counts by its /64, which it controls whole.
  const { ip } = clientInfo(c);
  if (await c.var.services.clientLimiter.allow(`${work}:${ip ? clientAddressBlock(ip) : "unknown"}`)) return;
  throw new AppError("TOO_MANY_REQUESTS", `${PUBLIC_WORK[work]}; retry in ${CLIENT_LIMIT_RETRY_SECONDS} seconds`, {
    headers: { "Retry-After": String(CLIENT_LIMIT_RETRY_SECONDS) },
  });
}
