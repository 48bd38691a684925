/** What image search looks in: filename and prompts, lower-cased once at write time. */
export function searchText(...parts: (string | null | undefined)[]): string {
  return parts
    .filter((part): part is string => Boolean(part))
    .join(" \n ")
    .toLowerCase();
}
