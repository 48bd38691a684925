/**
 * Resampling: first a whole-factor shrink in JS (averaging k x k blocks: area averaging, which
 * cannot alias), then Lanczos-3 from Squoosh's Rust resizer in WASM for any remaining fraction,
 * the kernel sharp uses by default. On a 2000x1333 source to 500 wide (Node, same V8): Lanczos-3
 * alone 26 ms, triangle 12 ms, the block shrink by 4 about 10 ms with nothing left to resample;
 * and the WASM resizer's memory only ever holds the shrunk image.
 */
import initResizer, { resize as lanczos } from "@jsquash/resize/lib/resize/pkg/squoosh_resize.js";
// @ts-expect-error The package types this file as the instance's exports; Wrangler imports the compiled module.
import RESIZE_WASM from "@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm";
import type { RgbaImage } from "../codec";
import { isOpaque, shrink } from "./pixels";

/** Index of Lanczos-3 in the resizer's kernel list (triangle, catrom, mitchell, lanczos3). */
const LANCZOS3 = 3;

let ready: Promise<unknown> | undefined;

/** `opaque` when known (a JPEG always is) saves a scan of the pixels. */
export async function resize(image: RgbaImage, width: number, height: number, opaque = isOpaque(image)): Promise<RgbaImage> {
  if (image.width === width && image.height === height) return image;
  const factor = Math.floor(Math.min(image.width / width, image.height / height));
  const shrunk = factor >= 2 ? shrink(image, factor, opaque) : image;
  if (shrunk.width === width && shrunk.height === height) return shrunk;
  ready ??= initResizer(RESIZE_WASM);
  await ready;
  const premultiply = !opaque;
  const bytes = new Uint8Array(shrunk.data.buffer, shrunk.data.byteOffset, shrunk.data.byteLength);
  const data = lanczos(bytes, shrunk.width, shrunk.height, width, height, LANCZOS3, premultiply, false);
  return { data, width, height };
}
