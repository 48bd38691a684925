/**
 * Hand-built image files, byte by byte, for the inspector's tests: valid ones small enough to read
 * in a hex dump, and hostile ones that show a header sniffer one size and the decoder another.
 * Nothing here imports the Worker's code, so the same files test the code before and after a fix.
 */

function u16(value: number): number[] {
  return [(value >> 8) & 0xff, value & 0xff];
}
function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}
function le16(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff];
}
function le24(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
}
function le32(value: number): number[] {
  return [...le16(value & 0xffff), ...le16(value >>> 16)];
}
function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

// ---- JPEG -------------------------------------------------------------------------------------

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];

/** A marker segment: FF, the marker, a length that counts itself, the payload. */
export function jpegSegment(marker: number, payload: number[]): number[] {
  return [0xff, marker, ...u16(payload.length + 2), ...payload];
}

export interface FrameOptions {
  marker?: number;
  precision?: number;
  components?: number;
}

/** A frame header (SOF0 by default): 8-bit, grey, every component sampled 1x1. */
export function jpegFrame(width: number, height: number, options: FrameOptions = {}): number[] {
  const components = options.components ?? 1;
  const specs = Array.from({ length: components }, (_, i) => [i + 1, 0x11, 0]).flat();
  return jpegSegment(options.marker ?? 0xc0, [options.precision ?? 8, ...u16(height), ...u16(width), components, ...specs]);
}

/** One quantization table of ones, and Huffman tables where the one-bit code 0 means "zero": DC 0, AC end-of-block. */
const TABLES = [
  ...jpegSegment(0xdb, [0x00, ...new Array(64).fill(1)]),
  ...jpegSegment(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00]),
  ...jpegSegment(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]),
];

/** A scan header over components `first` to `first + components - 1`. */
function jpegScan(components: number, spectral: [number, number] = [0, 63], first = 1): number[] {
  const specs = Array.from({ length: components }, (_, i) => [first + i, 0x00]).flat();
  return jpegSegment(0xda, [components, ...specs, spectral[0], spectral[1], 0x00]);
}

/**
 * Everything after the frame header of a flat grey baseline JPEG: tables, one scan whose all-zero
 * bits decode every block as flat mid-grey, and EOI. `dataBytes` short of the image's size is fine
 * for libjpeg, which pads missing data with zeros (that is how a 229-byte file can be 8192x8192).
 */
export function jpegBody(options: { components?: number; dataBytes?: number } = {}): number[] {
  return [...TABLES, ...jpegScan(options.components ?? 1), ...new Array(options.dataBytes ?? 4).fill(0), ...EOI];
}

/** A valid, decodable flat grey baseline JPEG. */
export function jpeg(width: number, height: number, options: FrameOptions = {}): Uint8Array {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8) * (options.components ?? 1);
  return new Uint8Array([
    ...SOI,
    ...jpegFrame(width, height, options),
    ...jpegBody({ components: options.components, dataBytes: Math.ceil(blocks / 4) }),
  ]);
}

/**
 * A JPEG that a loose walk reads as 1x1 and libjpeg decodes as `width`x`height`. libjpeg takes
 * `parameterless` (TEM FF01, or RST0-7) without a length, skips the stray bytes after it, and reads
 * the hidden frame header; a walk that gives the marker a length jumps over all that, into the
 * middle of a comment that libjpeg skips, where a 1x1 frame header waits.
 */
export function jpegWithHiddenFrame(width: number, height: number, parameterless: number, strayBytes = 0): Uint8Array {
  const visible = jpegFrame(1, 1);
  const hidden = jpegFrame(width, height);
  const stray = new Array(strayBytes).fill(0);
  const comment = [0xff, 0xfe, ...u16(2 + visible.length)];
  // The loose walk's "length" spans itself, the stray bytes, the hidden frame and the comment's header.
  const fakeLength = 2 + stray.length + hidden.length + comment.length;
  return new Uint8Array([
    ...SOI,
    0xff,
    parameterless,
    ...u16(fakeLength),
    ...stray,
    ...hidden,
    ...comment,
    ...visible,
    ...jpegBody(),
  ]);
}

/** Two frame headers, both read by any walk: the first says 1x1, the second `width`x`height`. */
export function jpegWithTwoFrames(width: number, height: number): Uint8Array {
  return new Uint8Array([...SOI, ...jpegFrame(1, 1), ...jpegFrame(width, height), ...jpegBody()]);
}

/**
 * A progressive JPEG (SOF2) with `scans` DC scans of its first component, each a few zero bytes;
 * with 3 components, every one sampled 1x1 (4:4:4).
 */
export function progressiveJpeg(width: number, height: number, scans: number, components = 1): Uint8Array {
  const scan = [...jpegScan(1, [0, 0]), 0, 0];
  return new Uint8Array([
    ...SOI,
    ...jpegFrame(width, height, { marker: 0xc2, components }),
    ...TABLES,
    ...Array.from({ length: scans }, () => scan).flat(),
    ...EOI,
  ]);
}

/**
 * A sequential (baseline) 4:4:4 YCbCr JPEG whose three components come in three scans, one each:
 * libjpeg buffers the whole image's coefficients for it, as for a progressive file.
 */
export function nonInterleavedJpeg(width: number, height: number): Uint8Array {
  const dataBytes = Math.ceil((Math.ceil(width / 8) * Math.ceil(height / 8)) / 4);
  const scans = [1, 2, 3].flatMap((component) => [...jpegScan(1, [0, 63], component), ...new Array(dataBytes).fill(0)]);
  return new Uint8Array([...SOI, ...jpegFrame(width, height, { components: 3 }), ...TABLES, ...scans, ...EOI]);
}

// ---- PNG --------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: number[]): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: number[]): number[] {
  const body = [...ascii(type), ...data];
  return [...u32(data.length), ...body, ...u32(crc32(body))];
}

async function zlib(bytes: number[]): Promise<number[]> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("deflate"));
  return [...new Uint8Array(await new Response(stream).arrayBuffer())];
}

/** Unfiltered scanlines of one colour; `sample` is one pixel's bytes. */
function scanlines(width: number, height: number, sample: number[]): number[] {
  const row = [0, ...Array.from({ length: width }, () => sample).flat()];
  return Array.from({ length: height }, () => row).flat();
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function ihdr(width: number, height: number, depth: number, colourType: number): number[] {
  return pngChunk("IHDR", [...u32(width), ...u32(height), depth, colourType, 0, 0, 0]);
}

/** A PNG of one colour: 8-bit RGBA by default, or 16-bit RGB (`sample` then has 6 bytes). */
export async function png(
  width: number,
  height: number,
  sample: number[] = [255, 0, 0, 255],
  format: { depth: number; colourType: number } = { depth: 8, colourType: 6 },
): Promise<Uint8Array> {
  return new Uint8Array([
    ...PNG_SIGNATURE,
    ...ihdr(width, height, format.depth, format.colourType),
    ...pngChunk("IDAT", await zlib(scanlines(width, height, sample))),
    ...pngChunk("IEND", []),
  ]);
}

/** IHDR declares `width`x`height` (with a correct checksum) over a few bytes of IDAT. */
export async function pngBomb(width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array([
    ...PNG_SIGNATURE,
    ...ihdr(width, height, 8, 6),
    ...pngChunk("IDAT", await zlib([0, 0, 0, 0, 0])),
    ...pngChunk("IEND", []),
  ]);
}

function fctl(sequence: number, width: number, height: number, x = 0, y = 0): number[] {
  return pngChunk("fcTL", [...u32(sequence), ...u32(width), ...u32(height), ...u32(x), ...u32(y), ...u16(1), ...u16(10), 0, 0]);
}

/**
 * An APNG of two frames: red (the default image, IDAT) then blue. `firstFrame` sets the size of
 * the first frame control, which should equal the image's.
 */
export async function apng(width: number, height: number, firstFrame = { width, height }): Promise<Uint8Array> {
  const blue = await zlib(scanlines(width, height, [0, 0, 255, 255]));
  return new Uint8Array([
    ...PNG_SIGNATURE,
    ...ihdr(width, height, 8, 6),
    ...pngChunk("acTL", [...u32(2), ...u32(0)]),
    ...fctl(0, firstFrame.width, firstFrame.height),
    ...pngChunk("IDAT", await zlib(scanlines(width, height, [255, 0, 0, 255]))),
    ...fctl(1, width, height),
    ...pngChunk("fdAT", [...u32(2), ...blue]),
    ...pngChunk("IEND", []),
  ]);
}

// ---- WebP -------------------------------------------------------------------------------------

function riffChunk(type: string, data: number[]): number[] {
  return [...ascii(type), ...le32(data.length), ...data, ...(data.length % 2 ? [0] : [])];
}

function riff(chunks: number[]): Uint8Array {
  return new Uint8Array([...ascii("RIFF"), ...le32(chunks.length + 4), ...ascii("WEBP"), ...chunks]);
}

/** The VP8 or VP8L chunk of a simple (no VP8X) WebP file, as an encoder wrote it. */
function bitstreamChunk(webp: Uint8Array): number[] {
  const type = String.fromCharCode(...webp.subarray(12, 16));
  if (type !== "VP8 " && type !== "VP8L") throw new Error(`expected a simple WebP, found ${type}`);
  return [...webp.subarray(12)];
}

function vp8x(flags: number, width: number, height: number): number[] {
  return riffChunk("VP8X", [flags, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)]);
}

/** A real encoder's WebP, re-wrapped as an extended file whose VP8X canvas says `width`x`height`. */
export function webpWithCanvas(webp: Uint8Array, width: number, height: number): Uint8Array {
  return riff([...vp8x(0, width, height), ...bitstreamChunk(webp)]);
}

/** A real encoder's WebP as the one frame of an animation. */
export function animatedWebp(webp: Uint8Array, width: number, height: number): Uint8Array {
  const frame = [...le24(0), ...le24(0), ...le24(width - 1), ...le24(height - 1), ...le24(100), 0, ...bitstreamChunk(webp)];
  return riff([...vp8x(0x02, width, height), ...riffChunk("ANIM", [0, 0, 0, 0, 0, 0]), ...riffChunk("ANMF", frame)]);
}
