/**
 * What decoding one 8 MP JPEG costs with the Worker's decoder (jSquash's MozJPEG WASM), by JPEG
 * layout: libjpeg buffers a multi-scan (progressive) file's whole coefficient array, 128 bytes per
 * 8x8 block of every component, where a single-scan file needs one row of blocks. Each case runs
 * in a fresh WASM instance, because WASM memory only grows: its size after the decode is the
 * decoder's peak, and the RGBA copy handed to JS comes on top. Run: `npx node bench/jpeg-decode-memory.ts`.
 */
import sharp from "sharp";
import { freshEmscripten } from "./encode-memory.ts";
import { photoPixels } from "./photo.ts";

const WIDTH = 4096;
const HEIGHT = 2048;
const MIB = 1024 * 1024;

interface DecoderModule {
  decode(bytes: ArrayBuffer, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number };
}
async function measure(bytes: Buffer): Promise<{ before: number; after: number; rgba: number }> {
  const { module, memory } = await freshEmscripten<DecoderModule>(
    "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm",
    "@jsquash/jpeg/codec/dec/mozjpeg_dec.js",
  );
  const before = memory.buffer.byteLength;
  const image = module.decode(new Uint8Array(bytes).buffer, false);
  if (image.width !== WIDTH || image.height !== HEIGHT) throw new Error(`decoded ${image.width}x${image.height}`);
  return { before, after: memory.buffer.byteLength, rgba: image.data.byteLength };
}

const raw = photoPixels(WIDTH, HEIGHT);
const source = () => sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } });
const cases: [string, Promise<Buffer>][] = [
  ["baseline 4:2:0", source().jpeg({ quality: 85 }).toBuffer()],
  ["baseline 4:4:4", source().jpeg({ quality: 85, chromaSubsampling: "4:4:4" }).toBuffer()],
  ["progressive 4:2:0", source().jpeg({ quality: 85, progressive: true }).toBuffer()],
  ["progressive 4:4:4", source().jpeg({ quality: 85, progressive: true, chromaSubsampling: "4:4:4" }).toBuffer()],
  ["progressive greyscale", source().toColourspace("b-w").jpeg({ quality: 85, progressive: true }).toBuffer()],
];
console.log(`${WIDTH}x${HEIGHT} (${((WIDTH * HEIGHT) / 1e6).toFixed(1)} MP), MiB:`);
console.log("case                   file  WASM before  WASM after  RGBA copy  peak (WASM + RGBA)");
for (const [name, encoded] of cases) {
  const bytes = await encoded;
  const { before, after, rgba } = await measure(bytes);
  const cells = [bytes.length, before, after, rgba, after + rgba].map((value) => (value / MIB).toFixed(1).padStart(10));
  console.log(`${name.padEnd(21)}${cells.join(" ")}`);
}
