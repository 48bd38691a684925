import type { Context } from "hono";
import type { HonoEnv } from "../middleware/env";

/** Where images are served: PUBLIC_BASE_URL when set, else the origin the request came to. */
export function imageOrigin(c: Context<HonoEnv>): string {
  return c.var.config.publicBaseUrl?.replace(/\/+$/, "") ?? new URL(c.req.url).origin;
}

/** The public URL of a stored object. */
export function imageUrl(c: Context<HonoEnv>, key: string): string {
  return `${imageOrigin(c)}/api/images/${key}`;
}
