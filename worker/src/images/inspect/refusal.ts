/** The refusals every format's inspector shares, so the same fault reads the same in each. */
import { DECODED_BYTES_PER_PIXEL } from "../../domain/limits";
import { AppError } from "../../lib/errors";
import type { ImageFormat } from "./types";

const NAMES: Record<ImageFormat, string> = { png: "PNG", jpeg: "JPEG", webp: "WebP" };

/** Malformed, or built so that a decoder could read it differently from us. */
export function invalid(format: ImageFormat, detail: string): never {
  throw new AppError("INVALID_IMAGE", `Not a valid ${NAMES[format]} image: ${detail}`);
}

/** Well-formed, but a variant the Worker's decoders cannot turn into RGBA pixels. */
export function unsupported(format: ImageFormat, detail: string): never {
  throw new AppError("UNSUPPORTED_IMAGE_FEATURE", `${NAMES[format]} ${detail} is not supported`);
}

/** Refuses a size over the limit: the decoder allocates from this size before reading any pixel. */
export function checkPixels(format: ImageFormat, width: number, height: number, maxPixels: number): void {
  if (width < 1 || height < 1) invalid(format, "it declares no pixels");
  if (width * height > maxPixels) {
    throw new AppError("IMAGE_TOO_LARGE", `The image declares ${width}x${height} pixels; at most ${maxPixels} are accepted`);
  }
}

const MIB = 1024 * 1024;

/**
 * Refuses an image whose decoder needs `extraBytes` beyond the RGBA every decode holds, when that
 * takes it past what an image of `maxPixels` costs: the budget the pixel limit was measured for.
 */
export function checkDecodeMemory(kind: string, width: number, height: number, extraBytes: number, maxPixels: number): void {
  const needed = width * height * DECODED_BYTES_PER_PIXEL + extraBytes;
  const budget = maxPixels * DECODED_BYTES_PER_PIXEL;
  if (needed > budget) {
    throw new AppError(
      "IMAGE_TOO_LARGE",
      `The image declares ${width}x${height} pixels as ${kind}, which needs about ${Math.ceil(needed / MIB)} MiB to decode ` +
        "(its decoder buffers the whole image's coefficients), over the " +
        `${Math.floor(budget / MIB)} MiB decoding may take (what a baseline image of ${maxPixels} pixels needs). ` +
        "Save it as a baseline JPEG, or with fewer pixels",
    );
  }
}
