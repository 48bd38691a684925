/**
 * Walks a PNG's chunks as the Rust `png` crate reads them. The crate sizes its output buffer from
 * IHDR before it inflates a byte of IDAT, so IHDR alone must pass the pixel limit: a huge IHDR over
 * a tiny IDAT is a decompression bomb. jSquash asks the crate to strip 16-bit samples to 8 and to
 * expand palettes, so every valid bit depth and colour type decodes to RGBA8. An APNG decodes to
 * its default image (IDAT), which is IHDR's size.
 */
import { checkPixels, invalid } from "./refusal";
import type { Size } from "./types";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Allowed bit depths per colour type (PNG specification, table 11.1). */
const BIT_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const MAX_DIMENSION = 2 ** 31 - 1;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunkType(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
}

/** Whether the bytes start with PNG's signature. */
export function isPng(bytes: Uint8Array): boolean {
  return SIGNATURE.every((byte, i) => bytes[i] === byte);
}

/** The size the png crate will decode `bytes` to; throws for anything it could read otherwise. */
export function inspectPng(bytes: Uint8Array, maxPixels: number): Size {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || view.getUint32(8) !== 13 || chunkType(bytes, 8) !== "IHDR")
    invalid("png", "it does not start with IHDR");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width > MAX_DIMENSION || height > MAX_DIMENSION) invalid("png", "IHDR declares an impossible size");
  checkPixels("png", width, height, maxPixels);
  if (crc32(bytes.subarray(12, 29)) !== view.getUint32(29)) invalid("png", "IHDR's checksum does not match");
  const [depth, colourType, compression, filter, interlace] = bytes.subarray(24, 29);
  if (!BIT_DEPTHS[colourType as number]?.includes(depth as number))
    invalid("png", `bit depth ${depth} with colour type ${colourType}`);
  if (compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) invalid("png", "IHDR names an unknown method");

  let offset = 33;
  let sawPalette = false;
  let sawData = false;
  let sawAnimation = false;
  for (;;) {
    if (offset + 12 > bytes.length) invalid("png", "it ends before IEND");
    const length = view.getUint32(offset);
    const type = chunkType(bytes, offset);
    const end = offset + 12 + length;
    if (length > MAX_DIMENSION || end > bytes.length) invalid("png", `chunk ${type} runs past the end of the file`);
    if (type === "IHDR") invalid("png", "a second IHDR");
    if (type === "PLTE") sawPalette = true;
    if (type === "acTL") sawAnimation = true;
    if (type === "fcTL" && (!sawAnimation || length !== 26))
      invalid("png", "an animation frame without acTL, or of the wrong length");
    // The first frame of an APNG may be its default image; then it must cover IHDR exactly.
    if (type === "fcTL" && !sawData) {
      const frameWidth = view.getUint32(offset + 12);
      const frameHeight = view.getUint32(offset + 16);
      const x = view.getUint32(offset + 20);
      const y = view.getUint32(offset + 24);
      if (frameWidth !== width || frameHeight !== height || x !== 0 || y !== 0) {
        invalid("png", "its first animation frame does not cover the image");
      }
    }
    if (type === "IDAT") sawData = true;
    offset = end;
    if (type === "IEND") break;
  }
  if (!sawData) invalid("png", "it has no image data");
  if (colourType === 3 && !sawPalette) invalid("png", "a palette image without PLTE");
  if (offset !== bytes.length) invalid("png", "there is data after IEND");
  return { width, height };
}
