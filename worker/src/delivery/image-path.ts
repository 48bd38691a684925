/**
 * The grammar of a stored image's public address: `/api/images/{org}/{project}/{category}/{file}`
 * on the API's host, or `/{org}/{project}/{category}/{file}` on an image CDN host (PUBLIC_CDN_URL).
 * Every part is made by the server from a small alphabet with no `%`, `/`, `\`, `?`, `#` or dot
 * segment, so a request is read from its raw (still percent-encoded) path: a URL that spells an
 * image any other way, escapes included, is no image, and never becomes a cache key or a storage
 * key.
 */
import { type ImagePath, parseImageKey } from "../images/storage-key";

/** Where an image's path starts on the API's host; on a CDN host it starts at the root. */
export const API_IMAGE_PATH_PREFIX = "/api/images/";

/**
 * The image a request URL addresses, from its raw path in either form; null for anything else.
 * No path is an image in both forms (the API's has six segments, the CDN's four), and the CDN's
 * form holds for a project `images` of an organization `api` too.
 */
export function imagePathOfUrl(url: string): ImagePath | null {
  const { pathname } = new URL(url);
  const apiForm = pathname.startsWith(API_IMAGE_PATH_PREFIX) ? parseImageKey(pathname.slice(API_IMAGE_PATH_PREFIX.length)) : null;
  return apiForm ?? parseImageKey(pathname.slice(1));
}

/**
 * The path a signature covers, whichever host or form the URL has, so that a URL signed by the
 * API verifies on the CDN host too.
 */
export function signedImagePath(key: string): string {
  return `${API_IMAGE_PATH_PREFIX}${key}`;
}
