import type { Context } from "hono";
import type { HonoEnv } from "../middleware/env";
import { API_IMAGE_PATH_PREFIX } from "./image-path";

/**
 * What every image URL starts with, its storage key following: `{PUBLIC_CDN_URL}/` when the
 * deployment has an image CDN host, else `{PUBLIC_BASE_URL or the request's origin}/api/images/`.
 * It is also the canonical prefix of edge cache keys: whichever host or form served an image, it
 * is cached under its public URL, so the API's purges reach what the CDN Worker stored.
 */
export function imageUrlBase(c: Context<HonoEnv>): string {
  const { publicCdnUrl, publicBaseUrl } = c.var.config;
  if (publicCdnUrl) return `${publicCdnUrl}/`;
  return `${publicBaseUrl?.replace(/\/+$/, "") ?? new URL(c.req.url).origin}${API_IMAGE_PATH_PREFIX}`;
}

/** The public URL of a stored object. */
export function imageUrl(c: Context<HonoEnv>, key: string): string {
  return `${imageUrlBase(c)}${key}`;
}
