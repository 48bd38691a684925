/**
 * HTTP semantics of serving an immutable object: validators (ETag, Last-Modified), 304 on
 * If-None-Match / If-Modified-Since, single byte ranges (206) and 416 for unsatisfiable ones.
 * Pure functions of headers and sizes, shared by the cache-hit and storage paths.
 */

export type RangeRequest = { offset: number; length: number } | "unsatisfiable" | null;

/**
 * The one range of a `Range: bytes=...` header, resolved against the size. Multiple ranges or
 * a malformed header are ignored (the whole object is served, as RFC 9110 allows).
 */
export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match) return null;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const offset = Number(first);
  if (offset >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < offset) return null;
  return { offset, length: end - offset + 1 };
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  // Weak comparison, as If-None-Match requires.
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === `"${etag}"`);
}

/**
 * True when the client's copy is current, so the answer is 304 with no body. `lastModified` null
 * means only the ETag can tell (a variant also changes when its project's settings do).
 */
export function isNotModified(headers: Headers, etag: string, lastModified: Date | null): boolean {
  const ifNoneMatch = headers.get("If-None-Match");
  if (ifNoneMatch !== null) return etagMatches(ifNoneMatch, etag);
  const ifModifiedSince = headers.get("If-Modified-Since");
  if (ifModifiedSince === null || lastModified === null) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

export interface ObjectHeaders {
  contentType: string;
  size: number;
  etag: string;
  lastModified: Date;
  /** Shown to the user when they save the image. */
  filename: string;
  cacheControl: string;
}

/** Headers every answer about the object carries (200, 206, 304). */
export function objectHeaders(object: ObjectHeaders): Record<string, string> {
  return {
    "Content-Type": object.contentType,
    ETag: `"${object.etag}"`,
    "Last-Modified": object.lastModified.toUTCString(),
    "Cache-Control": object.cacheControl,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": `inline; filename="${object.filename}"`,
  };
}
