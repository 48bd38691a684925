/**
 * Image encoding inside the Worker with the Squoosh codecs (jSquash) compiled to WASM: the
 * rust `png` crate, MozJPEG and libwebp. They run within Workers' memory and CPU limits, need no
 * dynamic code evaluation, and are the codecs Squoosh tuned for size at a given quality.
 * Each WASM module is instantiated once per isolate, on first use.
 */

import JPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import JPEG_ENCODER from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import jpegDecode, { init as initJpegDecode } from "@jsquash/jpeg/decode";
import jpegEncode, { init as initJpegEncode } from "@jsquash/jpeg/encode";
// @ts-expect-error The package types this file as the instance's exports; Wrangler imports the compiled module.
import PNG_CODEC from "@jsquash/png/codec/pkg/squoosh_png_bg.wasm";
import pngDecode, { init as initPngDecode } from "@jsquash/png/decode";
import pngEncode, { init as initPngEncode } from "@jsquash/png/encode";
import WEBP_DECODER from "@jsquash/webp/codec/dec/webp_dec.wasm";
import WEBP_ENCODER from "@jsquash/webp/codec/enc/webp_enc_simd.wasm";
import webpDecode, { init as initWebpDecode } from "@jsquash/webp/decode";
import webpEncode, { init as initWebpEncode } from "@jsquash/webp/encode";
import { DEFAULT_QUALITY, type OutputFormat } from "../domain/catalog";
import { AppError } from "../lib/errors";
import { type ImageFormat, type InspectedImage, inspectForDecoding } from "./inspect";
import { jpegEncodeOptions } from "./jpeg-settings";
import { requireEncodable } from "./transform/geometry";

/** Pixels as RGBA bytes, the shape every codec reads and writes. */
export interface RgbaImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

export interface EncodedImage {
  bytes: Uint8Array;
  format: OutputFormat;
  mimeType: `image/${OutputFormat}`;
  width: number;
  height: number;
}

let ready: Promise<unknown> | undefined;
function initCodecs(): Promise<unknown> {
  ready ??= Promise.all([
    initPngDecode(PNG_CODEC),
    initJpegDecode(JPEG_DECODER),
    initWebpDecode(WEBP_DECODER),
    initPngEncode(PNG_CODEC),
    initJpegEncode(JPEG_ENCODER),
    initWebpEncode(WEBP_ENCODER),
  ]);
  return ready;
}

export async function encodeImage(image: RgbaImage, format: OutputFormat, quality?: number): Promise<EncodedImage> {
  // Transformations refuse a too large JPEG before decoding; this keeps every other caller within it too.
  requireEncodable(format, image.width, image.height, quality);
  await initCodecs();
  // The codecs take anything shaped like ImageData; Workers have no ImageData constructor.
  const pixels = { data: image.data, width: image.width, height: image.height, colorSpace: "srgb" } as Parameters<
    typeof pngEncode
  >[0];
  let buffer: ArrayBuffer;
  if (format === "png") buffer = await pngEncode(pixels);
  else if (format === "jpeg") buffer = await jpegEncode(pixels, jpegEncodeOptions(quality ?? DEFAULT_QUALITY.jpeg));
  else buffer = await webpEncode(pixels, { quality: quality ?? DEFAULT_QUALITY.webp });
  return { bytes: new Uint8Array(buffer), format, mimeType: `image/${format}`, width: image.width, height: image.height };
}

/**
 * Converts a model's output (PNG from Gemini; JPEG or WebP from other Gemini-protocol servers) to
 * the requested format. An image already in that format is kept byte for byte (no lossy or slow
 * round trip) unless a quality was asked for; everything else is decoded and encoded again. Either
 * way it passes the inspector first, so a hostile answer is never stored.
 */
export async function convertImage(
  bytes: Uint8Array,
  format: OutputFormat,
  options: { maxPixels: number; quality?: number },
): Promise<EncodedImage> {
  const source = inspectForDecoding(bytes, options.maxPixels);
  if (source.format === format && (format === "png" || options.quality === undefined)) {
    return { bytes, format, mimeType: source.mimeType, width: source.width, height: source.height };
  }
  return encodeImage(await decodeInspected(source), format, options.quality);
}

export interface DecodedImage extends RgbaImage {
  format: ImageFormat;
}

/**
 * Decodes PNG, JPEG or WebP to RGBA, within `maxPixels`. The decoders allocate from the header
 * they read, so the inspector reads it first, the same way, and refuses what is over the limit or
 * could be read differently; the decoded size is then checked against what it vouched for.
 */
export async function decodeImage(bytes: Uint8Array, maxPixels: number): Promise<DecodedImage> {
  return decodeInspected(inspectForDecoding(bytes, maxPixels));
}

/** `decodeImage` for a caller that needed the header first (to refuse a bad crop before decoding). */
export async function decodeInspected(source: InspectedImage): Promise<DecodedImage> {
  const buffer = source.bytes.slice().buffer;
  await initCodecs();
  const decode = { png: pngDecode, jpeg: jpegDecode, webp: webpDecode }[source.format];
  // The inspector read only the headers: broken pixel data (a bad zlib stream, say) fails here.
  const image = await decode(buffer).catch((cause: unknown) => {
    throw new AppError("INVALID_IMAGE", `The ${source.format.toUpperCase()} image's data cannot be decoded`, { cause });
  });
  if (image.width !== source.width || image.height !== source.height || image.data.length !== source.width * source.height * 4) {
    throw new AppError(
      "INVALID_IMAGE",
      `The image decoded to ${image.width}x${image.height}, not the ${source.width}x${source.height} its header declares`,
    );
  }
  return { data: image.data as Uint8ClampedArray, width: image.width, height: image.height, format: source.format };
}
