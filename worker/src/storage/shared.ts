import type { ByteRange } from "./object-store";

const METADATA_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * S3 folds metadata names to lower case and R2 does not; allowing only lower-case names keeps
 * both adapters returning exactly what was stored.
 */
export function assertMetadataKeys(metadata: Record<string, string> | undefined): void {
  for (const name of Object.keys(metadata ?? {})) {
    if (!METADATA_KEY.test(name)) throw new TypeError(`Metadata name "${name}" must be lower-case letters, digits and hyphens`);
  }
}

/** The HTTP Range header for a range. */
export function rangeHeader(range: ByteRange): string {
  if ("suffix" in range) return `bytes=-${range.suffix}`;
  return range.length === undefined ? `bytes=${range.offset}-` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}
