/**
 * Organization and project slugs become storage path segments and URL parts, so they are
 * restricted to lower-case letters, digits and inner hyphens.
 */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const DEFAULT_ORGANIZATION_SLUG = "default";

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a reference to an organization or project is its id (a UUID) rather than its slug. */
export function isUuid(reference: string): boolean {
  return UUID_PATTERN.test(reference);
}

/** A readable name from a slug, for organizations and projects created on first use. */
export function nameFromSlug(slug: string): string {
  return slug
    .split("-")
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join(" ");
}
