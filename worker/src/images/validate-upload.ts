import { ASPECT_RATIOS, type AspectRatio } from "../domain/catalog";
import { MAX_IMAGE_PIXELS, MAX_UPLOAD_BYTES } from "../domain/limits";
import { AppError } from "../lib/errors";
import { type ImageHeader, inspectImage } from "./inspect";

/**
 * Trusts magic bytes, not names or declared types, and reads the size as the decoder will without
 * decoding. The file must be complete and nothing more (a PNG ends with IEND, a JPEG with EOI, a
 * WebP's RIFF size is the file's), which also stops polyglots that append HTML after an image.
 */
export function validateUploadedImage(bytes: Uint8Array): ImageHeader {
  return inspectImage(bytes, MAX_IMAGE_PIXELS);
}

/** An uploaded file's name without its extension: the default name it is stored under. */
export function uploadBaseName(file: File): string {
  return file.name.replace(/\.[^.]*$/, "");
}

/**
 * An uploaded file's bytes and header, checked as every upload is: at most MAX_UPLOAD_BYTES
 * (413 FILE_TOO_LARGE), then validateUploadedImage. With `field`, a refusal names that field
 * (for a form of several files); its code and status stay the check's.
 */
export async function readUploadedImage(file: File, field?: string): Promise<{ bytes: Uint8Array; header: ImageHeader }> {
  try {
    if (file.size > MAX_UPLOAD_BYTES) {
      throw new AppError("FILE_TOO_LARGE", `Files are limited to ${MAX_UPLOAD_BYTES} bytes (5 MB)`);
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    return { bytes, header: validateUploadedImage(bytes) };
  } catch (error) {
    if (field === undefined || !(error instanceof AppError)) throw error;
    throw new AppError(error.code, `${field}: ${error.message}`, { errors: [{ field, message: error.message }], cause: error });
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The supported ratio nearest the image's, and how far it is (as the log of their quotient). */
export function nearestAspectRatio(width: number, height: number): { ratio: AspectRatio; distance: number } {
  const actual = Math.log(width / height);
  let best: { ratio: AspectRatio; distance: number } | null = null;
  for (const ratio of Object.keys(ASPECT_RATIOS) as AspectRatio[]) {
    const [w, h] = ratio.split(":").map(Number) as [number, number];
    const distance = Math.abs(Math.log(w / h) - actual);
    if (!best || distance < best.distance) best = { ratio, distance };
  }
  return best as { ratio: AspectRatio; distance: number };
}

/** The supported ratio within 3% of the image's, or its own reduced ratio ("7:5"). */
export function aspectRatioOf(width: number, height: number): AspectRatio | string {
  const best = nearestAspectRatio(width, height);
  if (best.distance < Math.log(1.03)) return best.ratio;
  const divisor = gcd(width, height);
  return `${width / divisor}:${height / divisor}`;
}
