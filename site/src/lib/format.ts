/** 7946 -> "7.8 KB"; binary units, as file managers show them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A timestamp in the visitor's locale, or "never" for null. */
export function formatDate(iso: string | null | undefined, never = "never"): string {
  if (!iso) return never;
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** 1920x1080 -> "16:9"; sizes with no small ratio are shown as a decimal ("1.91:1"). */
export function aspectRatio(width: number, height: number): string {
  const divisor = gcd(width, height);
  const w = width / divisor;
  const h = height / divisor;
  return w <= 32 && h <= 32 ? `${w}:${h}` : `${(width / height).toFixed(2)}:1`;
}

/** A pixel count as megapixels with one decimal, as limits are usually quoted. */
export function formatMegapixels(pixels: number): string {
  return `${(pixels / 1e6).toFixed(1)} megapixels`;
}
