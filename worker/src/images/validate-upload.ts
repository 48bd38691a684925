import { ASPECT_RATIOS, type AspectRatio } from "../domain/catalog";
import { MAX_IMAGE_PIXELS } from "../domain/limits";
import { AppError } from "../lib/errors";
import { type ImageHeader, sniffImage } from "./sniff";

const PNG_END = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/**
 * The file must be what its first bytes say, and all of it: a PNG ends with its IEND chunk, a
 * JPEG with its end-of-image marker, a WebP's RIFF length covers the file exactly. This rejects
 * truncated files and polyglots that append HTML or script after a valid image.
 */
function isComplete(bytes: Uint8Array, header: ImageHeader): boolean {
  const n = bytes.length;
  if (header.format === "png") return PNG_END.every((byte, i) => bytes[n - PNG_END.length + i] === byte);
  if (header.format === "jpeg") return bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
  const riffSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  return riffSize + 8 === n;
}

/** Trusts magic bytes, not names or declared types; reads the size from the header without decoding. */
export function validateUploadedImage(bytes: Uint8Array): ImageHeader {
  const header = sniffImage(bytes);
  if (!header)
    throw new AppError("UNSUPPORTED_FILE_TYPE", "Only PNG, JPEG and WebP images are accepted (judged by content, not by name)");
  if (!isComplete(bytes, header)) {
    throw new AppError(
      "INVALID_IMAGE",
      `The file is not a complete ${header.format.toUpperCase()} image (truncated, or data after its end)`,
    );
  }
  if (header.width < 1 || header.height < 1) throw new AppError("INVALID_IMAGE", "The image declares no pixels");
  if (header.width * header.height > MAX_IMAGE_PIXELS) {
    throw new AppError(
      "IMAGE_TOO_LARGE",
      `The image declares ${header.width}x${header.height} pixels; at most ${MAX_IMAGE_PIXELS} are accepted`,
    );
  }
  return header;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The supported ratio within 3% of the image's, or its own reduced ratio ("7:5"). */
export function aspectRatioOf(width: number, height: number): AspectRatio | string {
  const actual = Math.log(width / height);
  let best: { ratio: AspectRatio; distance: number } | null = null;
  for (const ratio of Object.keys(ASPECT_RATIOS) as AspectRatio[]) {
    const [w, h] = ratio.split(":").map(Number) as [number, number];
    const distance = Math.abs(Math.log(w / h) - actual);
    if (!best || distance < best.distance) best = { ratio, distance };
  }
  if (best && best.distance < Math.log(1.03)) return best.ratio;
  const divisor = gcd(width, height);
  return `${width / divisor}:${height / divisor}`;
}
