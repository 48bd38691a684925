/**
 * Walks a WebP as libwebp's WebPDecode reads it (src/dec/webp_dec.c, ParseHeadersInternal): the
 * RIFF header, an optional VP8X header with the canvas size, optional chunks, then one VP8 (lossy)
 * or VP8L (lossless) bitstream whose own header gives the size libwebp allocates. A still image's
 * canvas must equal its bitstream's size (libwebp refuses a mismatch; we refuse it before).
 * Animation needs libwebp's demuxer, which jSquash does not ship, so animated WebP is refused.
 */
import { checkPixels, invalid, unsupported } from "./refusal";
import type { Size } from "./types";

const ANIMATION_FLAG = 0x02;

function tag(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}

/** Whether the bytes start like a WebP file. */
export function isWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && tag(bytes, 0) === "RIFF" && tag(bytes, 8) === "WEBP";
}

/** The size in a VP8 key frame's header (RFC 6386, 9.1), as libwebp's VP8GetInfo checks it. */
function vp8Size(bytes: Uint8Array, view: DataView, start: number, length: number): Size {
  if (length < 10) invalid("webp", "its VP8 frame header is cut short");
  const bits = view.getUint32(start, true) & 0xffffff;
  const keyFrame = (bits & 1) === 0;
  const profile = (bits >> 1) & 7;
  const shown = (bits >> 4) & 1;
  const partition = bits >> 5;
  if (!keyFrame || profile > 3 || !shown || partition >= length) invalid("webp", "its VP8 frame header is malformed");
  if (bytes[start + 3] !== 0x9d || bytes[start + 4] !== 0x01 || bytes[start + 5] !== 0x2a)
    invalid("webp", "its VP8 start code is missing");
  return { width: view.getUint16(start + 6, true) & 0x3fff, height: view.getUint16(start + 8, true) & 0x3fff };
}

/** The size in a VP8L header (14 bits each, minus one), as libwebp's VP8LGetInfo checks it. */
function vp8lSize(bytes: Uint8Array, view: DataView, start: number, length: number): Size {
  if (length < 5 || bytes[start] !== 0x2f) invalid("webp", "its VP8L header is malformed");
  const bits = view.getUint32(start + 1, true);
  if (bits >>> 29 !== 0) invalid("webp", "its VP8L version is unknown");
  return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
}

/** The size libwebp will decode `bytes` to; throws for anything it could read otherwise. */
export function inspectWebp(bytes: Uint8Array, maxPixels: number): Size {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(4, true) + 8 !== bytes.length) invalid("webp", "its RIFF size is not the file's size");
  let offset = 12;
  let canvas: Size | null = null;
  let frame: Size | null = null;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) invalid("webp", "it ends inside a chunk header");
    const type = tag(bytes, offset);
    const length = view.getUint32(offset + 4, true);
    const start = offset + 8;
    // Chunks are padded to an even length.
    const end = start + length + (length & 1);
    if (end > bytes.length) invalid("webp", `chunk ${type} runs past the end of the file`);
    if (offset === 12 && type === "VP8X") {
      if (length !== 10) invalid("webp", "its VP8X header has the wrong length");
      if ((bytes[start] as number) & ANIMATION_FLAG) unsupported("webp", "animation");
      canvas = {
        width: (view.getUint32(start + 4, true) & 0xffffff) + 1,
        height: (view.getUint32(start + 6, true) >>> 8) + 1,
      };
      checkPixels("webp", canvas.width, canvas.height, maxPixels);
    } else if (type === "VP8 " || type === "VP8L") {
      if (frame) invalid("webp", "more than one bitstream");
      frame = type === "VP8 " ? vp8Size(bytes, view, start, length) : vp8lSize(bytes, view, start, length);
      checkPixels("webp", frame.width, frame.height, maxPixels);
      if (canvas && (canvas.width !== frame.width || canvas.height !== frame.height)) {
        invalid("webp", `its canvas (${canvas.width}x${canvas.height}) differs from its image (${frame.width}x${frame.height})`);
      }
    } else if (type === "VP8X") {
      invalid("webp", "VP8X is not its first chunk, or appears twice");
    } else if (type === "ANIM" || type === "ANMF") {
      unsupported("webp", "animation");
    } else if (!canvas) {
      // Without VP8X, the bitstream is the only chunk libwebp reads.
      invalid("webp", `chunk ${type} in a simple WebP`);
    }
    offset = end;
  }
  if (!frame) invalid("webp", "it has no image data");
  return frame;
}
