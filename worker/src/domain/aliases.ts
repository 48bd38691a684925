/**
 * The grammar of image aliases (Banatie's v1 contract): `@` and 1-49 of `[A-Za-z0-9_-]`,
 * case-sensitive. The database holds the same rule (image_aliases_format), so nothing else can
 * be stored.
 */
import { MAX_ALIAS_LENGTH } from "./limits";
import { isUuid } from "./slug";

export const ALIAS_PATTERN = new RegExp(`^@[A-Za-z0-9_-]{1,${MAX_ALIAS_LENGTH - 1}}$`);

/**
 * Aliases computed within a flow, never stored: the newest generated image, the oldest, and the
 * newest upload. Reserved in any letter case, so no stored alias can shadow them.
 */
export const TECHNICAL_ALIASES = ["@last", "@first", "@upload"] as const;
export type TechnicalAlias = (typeof TECHNICAL_ALIASES)[number];

/** The technical alias a name is, in any letter case, or undefined. */
export function technicalAlias(alias: string): TechnicalAlias | undefined {
  const lower = alias.toLowerCase();
  return TECHNICAL_ALIASES.find((technical) => technical === lower);
}

/** A reference as the client wrote it: an image id, or an alias to resolve. */
export type ReferenceSpec = { spec: string; id: string } | { spec: string; alias: string };

/** A reference (an image id or `@alias`) parsed, or null when it is neither. */
export function parseReferenceSpec(spec: string): ReferenceSpec | null {
  if (isUuid(spec)) return { spec, id: spec.toLowerCase() };
  if (ALIAS_PATTERN.test(spec)) return { spec, alias: spec };
  return null;
}

/** One field an alias was refused in, and why (the shape of a problem's `errors` entry). */
export interface AliasRefusal {
  field: string;
  message: string;
}

/**
 * Why `alias` cannot be given to an image, or null when it can: it must follow the grammar, and
 * must not be a technical alias.
 */
export function checkAssignableAlias(alias: string, field: string): AliasRefusal | null {
  if (!ALIAS_PATTERN.test(alias)) {
    return {
      field,
      message: `"${alias}" is not an alias: @ followed by 1-${MAX_ALIAS_LENGTH - 1} letters, digits, "_" or "-"`,
    };
  }
  if (technicalAlias(alias)) {
    return { field, message: `${alias} is reserved: @last, @first and @upload name images within a flow` };
  }
  return null;
}

/** `@word` tokens at the start of the prompt or after whitespace (Banatie's rule). */
const PROMPT_ALIAS = /(?:^|\s)(@[\w-]+)/g;

/**
 * The aliases a prompt names, in order of first appearance, without repeats. Words that are not
 * valid aliases (too long) are skipped: a prompt is prose, not a list of references.
 */
export function aliasesInPrompt(prompt: string): string[] {
  const found = [...prompt.matchAll(PROMPT_ALIAS)].map((match) => match[1] ?? "");
  return [...new Set(found.filter((word) => ALIAS_PATTERN.test(word)))];
}
