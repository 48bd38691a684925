/**
 * Comparing encoded images by what a viewer gets: PSNR of the decoded pixels against a
 * reference, and the Worker's JPEG encoder (jSquash's MozJPEG WASM, the same module workerd
 * runs) called from Node, so its bytes can be set beside sharp's for the same pixels.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import encodeJpeg, { init as initJpegEncoder } from "@jsquash/jpeg/encode.js";
import type { EncodeOptions } from "@jsquash/jpeg/meta.js";
import sharp from "sharp";
import { DEFAULT_QUALITY } from "../worker/src/domain/catalog.ts";

/** Raw RGB pixels, 3 bytes each, row by row. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes PNG, JPEG or WebP bytes to RGB (alpha dropped) with sharp. */
export async function decodeRgb(bytes: Uint8Array): Promise<RgbPixels> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Peak signal-to-noise ratio in dB over all RGB samples; Infinity for identical pixels. */
export function psnr(a: RgbPixels, b: RgbPixels): number {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) {
    throw new Error(`PSNR of ${a.width}x${a.height} against ${b.width}x${b.height}`);
  }
  let squared = 0;
  for (let i = 0; i < a.data.length; i++) {
    const difference = (a.data[i] as number) - (b.data[i] as number);
    squared += difference * difference;
  }
  return 10 * Math.log10((255 * 255) / (squared / a.data.length));
}

let encoderReady: Promise<void> | undefined;

/** Emscripten instantiates the encoder from the module's bytes, as it would fetch them in a browser. */
function loadJpegEncoder(): Promise<void> {
  const wasm = readFileSync(createRequire(import.meta.url).resolve("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm"));
  return initJpegEncoder({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) });
}

/** Encodes RGB pixels to JPEG with the Worker's MozJPEG build and the given options. */
export async function encodeJpegLikeWorker(pixels: RgbPixels, options: EncodeOptions): Promise<Uint8Array> {
  encoderReady ??= loadJpegEncoder();
  await encoderReady;
  const { width, height } = pixels;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 0; i < pixels.data.length; i += 3, j += 4) {
    rgba[j] = pixels.data[i] as number;
    rgba[j + 1] = pixels.data[i + 1] as number;
    rgba[j + 2] = pixels.data[i + 2] as number;
    rgba[j + 3] = 255;
  }
  // The encoder reads anything shaped like ImageData; Node has no ImageData constructor.
  const image = { data: rgba, width, height, colorSpace: "srgb" } as Parameters<typeof encodeJpeg>[0];
  return new Uint8Array(await encodeJpeg(image, options));
}

/** One output format: the Worker's bytes and sharp's for the same pixels, with their PSNR. */
export interface FormatComparison {
  format: "jpeg" | "webp" | "png";
  bytes: number;
  sharpBytes: number;
  /** dB against the pixels both encoders were given; Infinity when lossless. */
  psnr: number;
  sharpPsnr: number;
  identical: boolean;
}

/**
 * Sets the Worker's output beside sharp's for each format. `pixels` are the Worker's own resized
 * pixels (its PNG output, lossless), so both encoders start from the same image: sharp with
 * MozJPEG (`mozjpeg: true`, as its users write it) and libwebp at the Worker's default qualities,
 * libpng at its defaults.
 */
export async function compareWithSharp(
  pixels: RgbPixels,
  outputs: Record<FormatComparison["format"], Uint8Array>,
): Promise<FormatComparison[]> {
  const same = () => sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } });
  const sharpOutputs = {
    jpeg: await same().jpeg({ quality: DEFAULT_QUALITY.jpeg, mozjpeg: true }).toBuffer(),
    webp: await same().webp({ quality: DEFAULT_QUALITY.webp }).toBuffer(),
    png: await same().png().toBuffer(),
  };
  const rows: FormatComparison[] = [];
  for (const format of ["jpeg", "webp", "png"] as const) {
    const ours = outputs[format];
    const theirs = sharpOutputs[format];
    rows.push({
      format,
      bytes: ours.length,
      sharpBytes: theirs.length,
      psnr: psnr(pixels, await decodeRgb(ours)),
      sharpPsnr: psnr(pixels, await decodeRgb(theirs)),
      identical: Buffer.from(ours).equals(theirs),
    });
  }
  return rows;
}
