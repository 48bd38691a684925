/**
 * The grammar of a stored image's public address: `/api/images/{org}/{project}/{category}/{file}`
 * on the API's host, or `/{org}/{project}/{category}/{file}` on an image CDN host (PUBLIC_CDN_URL).
 * Every part is made by the server from a small alphabet with no `%`, `/`, `\`, `?`, `#` or dot
 * segment, so a request is read from its raw (still percent-encoded) path: a URL that spells an
 * image any other way, escapes included, is no image, and never becomes a cache key or a storage
 * key.
 */
import { ALIAS_PATTERN, technicalAlias } from "../domain/aliases";
import { isUuid, SLUG_PATTERN } from "../domain/slug";
import { type ImagePath, parseImageKey } from "../images/storage-key";
import type { ImageRef } from "../services/image-refs";

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

/** The path segment of an image named by id or alias: not a category, so no storage key has it. */
export const IMAGE_REF_SEGMENT = "img";

/** `{org}/{project}/img/{id | @alias | %40alias}`, checked part by part; null otherwise. */
function parseImageRef(path: string): ImageRef | null {
  const parts = path.split("/");
  if (parts.length !== 4) return null;
  const [organization = "", project = "", segment = "", name = ""] = parts;
  if (segment !== IMAGE_REF_SEGMENT || !SLUG_PATTERN.test(organization) || !SLUG_PATTERN.test(project)) return null;
  if (isUuid(name)) return { organization, project, target: { id: name } };
  // Clients may escape the @; nothing else may be escaped.
  const alias = name.startsWith("%40") ? `@${name.slice(3)}` : name;
  // Technical aliases live in a flow, which a URL does not name.
  if (!ALIAS_PATTERN.test(alias) || technicalAlias(alias)) return null;
  return { organization, project, target: { alias } };
}

/**
 * The image a request URL names by id or project alias (`.../img/{id}` or `.../img/@alias`), from
 * its raw path in either form, as imagePathOfUrl reads a stored image's address; null for
 * anything else.
 */
export function imageRefOfUrl(url: string): ImageRef | null {
  const { pathname } = new URL(url);
  const apiForm = pathname.startsWith(API_IMAGE_PATH_PREFIX) ? parseImageRef(pathname.slice(API_IMAGE_PATH_PREFIX.length)) : null;
  return apiForm ?? parseImageRef(pathname.slice(1));
}
