/**
 * Addresses and small rules of the image and flow pages (and the gallery's links to them), kept
 * free of the DOM so they are tested alone.
 */

/** The image page of an image id (or an @alias, which the API resolves too). */
export function imagePageHref(id: string): string {
  return `/demo/image?id=${encodeURIComponent(id)}`;
}

/** The flow page, optionally scrolled to one of its generations. */
export function flowPageHref(flowId: string, generationId?: string): string {
  return `/demo/flow?id=${encodeURIComponent(flowId)}${generationId ? `#${generationAnchor(generationId)}` : ""}`;
}

/** The id of a generation's entry on the flow page. */
export function generationAnchor(generationId: string): string {
  return `generation-${generationId}`;
}

/** The workbench, asked to start an edit of this image. */
export function editImageHref(id: string): string {
  return `/demo/tti?edit=${encodeURIComponent(id)}`;
}

/** The `id` a page was opened with (`?id=`), trimmed; null when there is none. */
export function idParameter(search: string): string | null {
  const id = new URLSearchParams(search).get("id")?.trim();
  return id ? id : null;
}

/**
 * What the visitor typed as an alias, as the API expects it: trimmed, with the leading @ added
 * when it was left out. Null for nothing typed. The format itself is the API's to check.
 */
export function aliasFromInput(value: string): string | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  return trimmed.startsWith("@") ? trimmed : `@${trimmed}`;
}

const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

/**
 * The name to save an image under: its URL's file name (the server's: a sanitized name and an
 * id, with the extension), else the id with the extension of its type.
 */
export function downloadFileName(url: string, id: string, mimeType: string): string {
  const extension = EXTENSIONS[mimeType] ?? "img";
  let last = "";
  try {
    last = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
  } catch {
    // Not a URL, or a broken escape: fall back to the id.
  }
  const safe = last.replace(/[^\w.-]+/g, "-");
  if (/^[\w-]+\.\w+$/.test(safe)) return safe;
  return `${id}.${extension}`;
}

/** Generations oldest first, by `createdAt`; those created at the same instant keep the order given. */
export function oldestFirst<T extends { createdAt: string }>(items: readonly T[]): T[] {
  return items
    .map((item, index) => ({ item, index, at: Date.parse(item.createdAt) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ item }) => item);
}
