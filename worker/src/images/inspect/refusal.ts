/** The refusals every format's inspector shares, so the same fault reads the same in each. */
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
