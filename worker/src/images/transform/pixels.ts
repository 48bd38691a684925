/**
 * RGBA pixel operations done in plain JS because they are single passes over memory: cutting a
 * rectangle, shrinking by a whole factor (averaging k x k blocks, as libvips' shrink does before
 * its final resample), placing an image on a canvas and blending a watermark over it.
 */
import type { RgbaImage } from "../codec";
import type { CropRect } from "./options";

export function extract(image: RgbaImage, rect: CropRect): RgbaImage {
  if (rect.x === 0 && rect.y === 0 && rect.width === image.width && rect.height === image.height) return image;
  const data = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let row = 0; row < rect.height; row++) {
    const start = ((rect.y + row) * image.width + rect.x) * 4;
    data.set(image.data.subarray(start, start + rect.width * 4), row * rect.width * 4);
  }
  return { data, width: rect.width, height: rect.height };
}

/**
 * Averages each factor x factor block into one pixel; edge rows and columns that do not fill a
 * block are dropped. Reads one 32-bit word per pixel (RGBA, little-endian as every Workers host
 * is): about 5 ms for 2000x1333 by 4, a third faster than reading bytes.
 */
export function shrink(image: RgbaImage, factor: number): RgbaImage {
  const width = Math.floor(image.width / factor);
  const height = Math.floor(image.height / factor);
  const out = new Uint8ClampedArray(width * height * 4);
  const source = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  const sums = [new Uint32Array(width), new Uint32Array(width), new Uint32Array(width), new Uint32Array(width)] as const;
  const [red, green, blue, alpha] = sums;
  const area = factor * factor;
  const half = area >> 1;
  for (let y = 0; y < height; y++) {
    for (const channel of sums) channel.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      let p = (y * factor + dy) * image.width;
      for (let x = 0; x < width; x++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let dx = 0; dx < factor; dx++) {
          const value = source[p++] as number;
          r += value & 255;
          g += (value >>> 8) & 255;
          b += (value >>> 16) & 255;
          a += value >>> 24;
        }
        red[x] = (red[x] as number) + r;
        green[x] = (green[x] as number) + g;
        blue[x] = (blue[x] as number) + b;
        alpha[x] = (alpha[x] as number) + a;
      }
    }
    let o = y * width * 4;
    for (let x = 0; x < width; x++) {
      out[o++] = ((red[x] as number) + half) / area;
      out[o++] = ((green[x] as number) + half) / area;
      out[o++] = ((blue[x] as number) + half) / area;
      out[o++] = ((alpha[x] as number) + half) / area;
    }
  }
  return { data: out, width, height };
}

/** True when every pixel is opaque, so resampling needs no premultiplied alpha. */
export function isOpaque(image: RgbaImage): boolean {
  const data = image.data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
}

/** Puts the image at (x, y) on a canvas filled with one RGBA colour (letterboxing for `contain`). */
export function place(
  image: RgbaImage,
  canvas: { width: number; height: number; x: number; y: number },
  background: [number, number, number, number],
): RgbaImage {
  if (canvas.width === image.width && canvas.height === image.height) return image;
  const data = new Uint8ClampedArray(canvas.width * canvas.height * 4);
  const fill = new Uint32Array(data.buffer);
  fill.fill(new Uint32Array(new Uint8Array(background).buffer)[0] as number);
  for (let row = 0; row < image.height; row++) {
    const from = row * image.width * 4;
    data.set(image.data.subarray(from, from + image.width * 4), ((canvas.y + row) * canvas.width + canvas.x) * 4);
  }
  return { data, width: canvas.width, height: canvas.height };
}

/** Blends `mark` over `image` at (x, y) with its own alpha scaled by `opacity` (0-1), in place. */
export function blend(image: RgbaImage, mark: RgbaImage, x: number, y: number, opacity: number): void {
  for (let row = 0; row < mark.height; row++) {
    const ty = y + row;
    if (ty < 0 || ty >= image.height) continue;
    for (let col = 0; col < mark.width; col++) {
      const tx = x + col;
      if (tx < 0 || tx >= image.width) continue;
      const m = (row * mark.width + col) * 4;
      const alpha = ((mark.data[m + 3] as number) / 255) * opacity;
      if (alpha === 0) continue;
      const t = (ty * image.width + tx) * 4;
      for (let c = 0; c < 3; c++) {
        image.data[t + c] = (mark.data[m + c] as number) * alpha + (image.data[t + c] as number) * (1 - alpha);
      }
      image.data[t + 3] = Math.max(image.data[t + 3] as number, alpha * 255);
    }
  }
}

/** Composites the image over an opaque colour, in place: JPEG has no alpha, and its encoder would show transparent pixels as whatever colour they hide (often black). */
export function flatten(image: RgbaImage, [r, g, b]: [number, number, number]): void {
  const data = image.data;
  for (let i = 0; i < data.length; i += 4) {
    const alpha = (data[i + 3] as number) / 255;
    if (alpha === 1) continue;
    data[i] = (data[i] as number) * alpha + r * (1 - alpha);
    data[i + 1] = (data[i + 1] as number) * alpha + g * (1 - alpha);
    data[i + 2] = (data[i + 2] as number) * alpha + b * (1 - alpha);
    data[i + 3] = 255;
  }
}
