import { IMAGE_CATEGORIES, type ImageCategory } from "../domain/catalog";
import { SLUG_PATTERN } from "../domain/slug";

const MAX_FILENAME_LENGTH = 60;

/** Cyrillic to Latin (a practical, not scholarly, scheme), so Russian and Ukrainian names survive. */
const CYRILLIC: Record<string, string> = {
  а: "a",
  б: "b",
  в: "v",
  г: "g",
  ґ: "g",
  д: "d",
  е: "e",
  ё: "e",
  є: "ye",
  ж: "zh",
  з: "z",
  и: "i",
  і: "i",
  ї: "yi",
  й: "y",
  к: "k",
  л: "l",
  м: "m",
  н: "n",
  о: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ф: "f",
  х: "kh",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "shch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
};

/**
 * A user's filename made safe for storage keys, URLs and Content-Disposition: accents folded,
 * lower-case letters, digits, hyphens and underscores only, no dots, no path. Null when nothing
 * usable is left.
 */
export function sanitizeFilename(name: string): string | null {
  const safe = name
    .toLowerCase()
    .replace(/[\u0400-\u04ff]/g, (char) => CYRILLIC[char] ?? "")
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, MAX_FILENAME_LENGTH)
    .replace(/[-_]+$/g, "");
  return safe || null;
}

/**
 * `{org}/{project}/{category}/{name}`: every part comes from the server (slugs are validated at
 * creation, the id is ours); a sanitized filename may lead the name.
 */
export function storageKey(parts: {
  organizationSlug: string;
  projectSlug: string;
  category: ImageCategory;
  id: string;
  filename: string | null;
  extension: string;
}): string {
  // 64 random bits keep names unique within a project even when every file has the same name.
  const name = parts.filename ? `${parts.filename}-${parts.id.replaceAll("-", "").slice(0, 16)}` : parts.id;
  return `${parts.organizationSlug}/${parts.projectSlug}/${parts.category}/${name}.${parts.extension}`;
}

// The grammar of a stored image's key, `{org}/{project}/{category}/{file}`: what the server
// makes, and so all that image URLs (delivery/image-path.ts) and the orphan sweep ever accept.

/** Server-made names only: no dots but the extension's, no slashes, nothing to escape with. */
export const IMAGE_FILE_NAME = /^[a-z0-9][a-z0-9_-]{0,120}\.(png|jpg|webp)$/;

/** An image's address, each part checked against the grammar. */
export interface ImagePath {
  organization: string;
  project: string;
  category: ImageCategory;
  file: string;
  /** `{org}/{project}/{category}/{file}`: the storage key, and the path of its cache entries. */
  key: string;
}

/** Reads a storage key; null unless all four parts follow the grammar. */
export function parseImageKey(key: string): ImagePath | null {
  const parts = key.split("/");
  if (parts.length !== 4) return null;
  const [organization = "", project = "", category = "", file = ""] = parts;
  if (!SLUG_PATTERN.test(organization) || !SLUG_PATTERN.test(project) || !IMAGE_FILE_NAME.test(file)) return null;
  if (!(IMAGE_CATEGORIES as readonly string[]).includes(category)) return null;
  return { organization, project, category: category as ImageCategory, file, key };
}
