/**
 * Walks a JPEG the way libjpeg's marker reader (jdmarker.c) and entropy decoder (jdhuff.c) do,
 * and refuses every place where they would quietly read past something: libjpeg skips stray
 * bytes between segments, takes TEM and RST0-7 as markers without a length, and finds the next
 * marker inside entropy-coded data by its own rules. A walk that differs anywhere can be shown
 * one frame header while the decoder allocates for another, so this walk follows the decoder's
 * byte for byte, and refuses whatever it would only warn about.
 */
import { checkDecodeMemory, checkPixels, invalid, unsupported } from "./refusal";
import type { Size } from "./types";

/**
 * Most scans (SOS segments) a JPEG may have. Every scan of a progressive JPEG revisits the whole
 * coefficient buffer, so thousands of tiny scans cost minutes of CPU (libjpeg-turbo's advisory on
 * progressive scan DoS); real encoders write about 10, MozJPEG's scan optimization a few more.
 */
export const MAX_JPEG_SCANS = 100;

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const PROGRESSIVE = 0xc2;
/** The frame headers the Worker's MozJPEG decodes: baseline, extended and progressive Huffman. */
const DECODABLE_FRAMES = new Set([0xc0, 0xc1, 0xc2]);
/** Every other SOFn: lossless, hierarchical or arithmetic-coded, which we do not decode. */
const OTHER_FRAMES = new Set([0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
/**
 * Segments libjpeg reads or skips by their length: DHT, DAC, DQT, DRI, APP0-15, COM. (It also
 * skips DNL, which only matters to a frame of height 0, refused here.)
 */
function isLengthSegment(marker: number): boolean {
  return (
    marker === 0xc4 ||
    marker === 0xcc ||
    marker === 0xdb ||
    marker === 0xdd ||
    (marker >= 0xe0 && marker <= 0xef) ||
    marker === 0xfe
  );
}
function isRestart(marker: number): boolean {
  return marker >= 0xd0 && marker <= 0xd7;
}
function hex(marker: number): string {
  return `FF${marker.toString(16).toUpperCase().padStart(2, "0")}`;
}

interface Sampling {
  horizontal: number;
  vertical: number;
}

interface Frame extends Size {
  progressive: boolean;
  sampling: Sampling[];
}

/** 64 coefficients of 2 bytes (JCOEF) for each 8x8 block. */
const COEFFICIENT_BYTES_PER_BLOCK = 128;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/**
 * The whole-image coefficient buffer libjpeg allocates for a multi-scan JPEG (jdcoefct.c, "full
 * image buffer"): every block of every component, its rows and columns of blocks rounded up to
 * the component's sampling factors. About 6 bytes a pixel at 4:4:4, 3 at 4:2:0, 2 for grey.
 */
function coefficientBufferBytes(frame: Frame): number {
  const maxHorizontal = Math.max(...frame.sampling.map((factors) => factors.horizontal));
  const maxVertical = Math.max(...frame.sampling.map((factors) => factors.vertical));
  let bytes = 0;
  for (const { horizontal, vertical } of frame.sampling) {
    const columns = roundUp(Math.ceil((frame.width * horizontal) / (maxHorizontal * 8)), horizontal);
    const rows = roundUp(Math.ceil((frame.height * vertical) / (maxVertical * 8)), vertical);
    bytes += columns * rows * COEFFICIENT_BYTES_PER_BLOCK;
  }
  return bytes;
}

/** The frame header (SOF0-2): 8-bit samples, 1 (grey) or 3 (YCbCr or RGB) components. */
function readFrame(bytes: Uint8Array, view: DataView, marker: number, start: number, length: number): Frame {
  if (length < 8) invalid("jpeg", "its frame header is too short");
  const precision = bytes[start] as number;
  const height = view.getUint16(start + 1);
  const width = view.getUint16(start + 3);
  const components = bytes[start + 5] as number;
  if (components === 0 || length !== 8 + 3 * components)
    invalid("jpeg", "its frame header's length does not match its component count");
  if (precision !== 8) unsupported("jpeg", `with ${precision}-bit samples (only 8-bit JPEG can be decoded here)`);
  if (components === 4) unsupported("jpeg", "with 4 colour components (CMYK or YCCK; save it as RGB)");
  if (components !== 1 && components !== 3) unsupported("jpeg", `with ${components} colour components`);
  const sampling = Array.from({ length: components }, (_, i) => {
    const factors = bytes[start + 6 + i * 3 + 1] as number;
    const horizontal = factors >> 4;
    const vertical = factors & 0x0f;
    if (horizontal < 1 || horizontal > 4 || vertical < 1 || vertical > 4)
      invalid("jpeg", "a component has invalid sampling factors");
    return { horizontal, vertical };
  });
  if (height === 0) invalid("jpeg", "its height is left to a DNL marker");
  return { width, height, progressive: marker === PROGRESSIVE, sampling };
}

/**
 * The offset just past a scan's entropy-coded data: where libjpeg finds the next marker that is
 * not a restart. FF00 is a stuffed FF, a run of FFs is fill, FFD0-FFD7 restart the data.
 */
function endOfScan(bytes: Uint8Array, from: number): number {
  let offset = from;
  for (;;) {
    offset = bytes.indexOf(0xff, offset);
    if (offset < 0) invalid("jpeg", "the last scan has no end-of-image marker");
    let next = offset + 1;
    while (bytes[next] === 0xff) next++;
    const byte = bytes[next];
    if (byte === undefined) invalid("jpeg", "the last scan has no end-of-image marker");
    if (byte !== 0x00 && !isRestart(byte)) return next - 1;
    offset = next + 1;
  }
}

/** The size MozJPEG will decode `bytes` to; throws for anything it could read differently. */
export function inspectJpeg(bytes: Uint8Array, maxPixels: number): Size {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0xff || bytes[1] !== SOI) invalid("jpeg", "it does not start with SOI");
  let frame: Frame | null = null;
  let scans = 0;
  /** A sequential file whose first scan covered every component: libjpeg reads no other. */
  let singleScan = false;
  let offset = 2;
  for (;;) {
    // Between segments only FF fill may stand before a marker; libjpeg would skip anything else.
    if (bytes[offset] !== 0xff) invalid("jpeg", `stray bytes at offset ${offset} where a marker belongs`);
    while (bytes[offset + 1] === 0xff) offset++;
    const marker = bytes[offset + 1];
    if (marker === undefined) invalid("jpeg", "it ends inside a marker");
    offset += 2;
    if (marker === EOI) {
      if (scans === 0) invalid("jpeg", "it ends before any scan");
      if (offset !== bytes.length) invalid("jpeg", "there is data after its end-of-image marker");
      return frame as Frame;
    }
    if (marker === TEM || isRestart(marker)) invalid("jpeg", `marker ${hex(marker)} outside entropy-coded data`);
    if (marker === SOI) invalid("jpeg", "a second start-of-image marker");
    if (OTHER_FRAMES.has(marker)) unsupported("jpeg", `frame type ${hex(marker)} (lossless, hierarchical or arithmetic-coded)`);
    if (!DECODABLE_FRAMES.has(marker) && marker !== SOS && !isLengthSegment(marker))
      invalid("jpeg", `unknown marker ${hex(marker)}`);
    if (offset + 2 > bytes.length) invalid("jpeg", "it ends inside a segment");
    const length = view.getUint16(offset);
    if (length < 2 || offset + length > bytes.length) invalid("jpeg", `segment ${hex(marker)} has an impossible length`);
    if (DECODABLE_FRAMES.has(marker)) {
      if (frame) invalid("jpeg", "more than one frame header");
      frame = readFrame(bytes, view, marker, offset + 2, length);
      checkPixels("jpeg", frame.width, frame.height, maxPixels);
    }
    offset += length;
    if (marker === SOS) {
      if (!frame) invalid("jpeg", "a scan comes before the frame header");
      const components = bytes[offset - length + 2] as number;
      if (components < 1 || components > 4 || length !== 6 + 2 * components)
        invalid("jpeg", "a scan header's length does not match its component count");
      if (++scans > MAX_JPEG_SCANS) invalid("jpeg", `more than ${MAX_JPEG_SCANS} scans`);
      // libjpeg buffers the whole image's coefficients when the file is progressive or its first
      // scan leaves out a component (jdinput.c, initial_setup); a sequential file that goes on
      // after a scan of every component is an error to it, refused here as such.
      if (scans === 1) {
        singleScan = !frame.progressive && components === frame.sampling.length;
        if (!singleScan) {
          const kind = frame.progressive ? "progressive" : "multi-scan";
          checkDecodeMemory(`a ${kind} JPEG`, frame.width, frame.height, coefficientBufferBytes(frame), maxPixels);
        }
      } else if (singleScan) invalid("jpeg", "a scan follows a baseline scan that already covered every component");
      offset = endOfScan(bytes, offset);
    }
  }
}
