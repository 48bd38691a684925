/**
 * The one gate in front of every decoder: reads an image's format and size the way its decoder
 * will, without decoding, and refuses anything the decoder could read differently (see each
 * format's module). The WASM decoders allocate their output from the header they read, with no
 * hook to stop them, so the pixel limit holds only if it is checked here, on that same header.
 */
import { AppError } from "../../lib/errors";
import { inspectJpeg } from "./jpeg";
import { inspectPng, isPng } from "./png";
import type { ImageFormat, ImageHeader, InspectedImage, Size } from "./types";
import { inspectWebp, isWebp } from "./webp";

export type { ImageFormat, ImageHeader, InspectedImage } from "./types";

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8;
}

/** The format its first bytes name; null for anything but PNG, JPEG and WebP. */
export function formatOf(bytes: Uint8Array): ImageFormat | null {
  if (isPng(bytes)) return "png";
  if (isJpeg(bytes)) return "jpeg";
  if (isWebp(bytes)) return "webp";
  return null;
}

const INSPECTORS: Record<ImageFormat, (bytes: Uint8Array, maxPixels: number) => Size> = {
  png: inspectPng,
  jpeg: inspectJpeg,
  webp: inspectWebp,
};

/**
 * The format and size a PNG, JPEG or WebP file decodes to. Throws UNSUPPORTED_FILE_TYPE for other
 * types, INVALID_IMAGE for malformed or ambiguous files (truncated, data after the end, stray
 * bytes, two frame headers...), UNSUPPORTED_IMAGE_FEATURE for variants the decoders cannot turn
 * into RGBA (CMYK or 12-bit JPEG, animated WebP), and IMAGE_TOO_LARGE beyond `maxPixels`.
 */
export function inspectImage(bytes: Uint8Array, maxPixels: number): ImageHeader {
  const format = formatOf(bytes);
  if (!format)
    throw new AppError("UNSUPPORTED_FILE_TYPE", "Only PNG, JPEG and WebP images are accepted (judged by content, not by name)");
  const { width, height } = INSPECTORS[format](bytes, maxPixels);
  return { format, mimeType: `image/${format}`, width, height };
}

/** `inspectImage`, keeping the bytes with what it vouched for: the only way to a decoder. */
export function inspectForDecoding(bytes: Uint8Array, maxPixels: number): InspectedImage {
  return { ...inspectImage(bytes, maxPixels), bytes } as InspectedImage;
}
