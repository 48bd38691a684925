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
export function shrink(image: RgbaImage, factor: number, opaque: boolean): RgbaImage {
  if (!opaque) return shrinkWithAlpha(image, factor);
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

/**
 * The same block average, with colours weighted by alpha (premultiplied), so transparent pixels
 * do not darken the colours next to them: one red pixel among three transparent ones stays red,
 * at a quarter of the opacity.
 */
function shrinkWithAlpha(image: RgbaImage, factor: number): RgbaImage {
  const width = Math.floor(image.width / factor);
  const height = Math.floor(image.height / factor);
  const out = new Uint8ClampedArray(width * height * 4);
  const source = image.data;
  const sums = new Float64Array(width * 4);
  const area = factor * factor;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < factor; dy++) {
      let p = (y * factor + dy) * image.width * 4;
      for (let x = 0; x < width; x++) {
        const s = x * 4;
        for (let dx = 0; dx < factor; dx++) {
          const alpha = source[p + 3] as number;
          sums[s] = (sums[s] as number) + (source[p] as number) * alpha;
          sums[s + 1] = (sums[s + 1] as number) + (source[p + 1] as number) * alpha;
          sums[s + 2] = (sums[s + 2] as number) + (source[p + 2] as number) * alpha;
          sums[s + 3] = (sums[s + 3] as number) + alpha;
          p += 4;
        }
      }
    }
    for (let x = 0; x < width; x++) {
      const s = x * 4;
      const o = (y * width + x) * 4;
      const alpha = sums[s + 3] as number;
      if (alpha > 0) {
        out[o] = (sums[s] as number) / alpha;
        out[o + 1] = (sums[s + 1] as number) / alpha;
        out[o + 2] = (sums[s + 2] as number) / alpha;
      }
      out[o + 3] = alpha / area;
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

/**
 * Composites `mark` over `image` at (x, y) with its own alpha scaled by `opacity` (0-1), in place,
 * with Porter-Duff "over": correct on transparent canvases (contain's padding) as on opaque ones.
 */
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
      const below = (image.data[t + 3] as number) / 255;
      const out = alpha + below * (1 - alpha);
      for (let c = 0; c < 3; c++) {
        image.data[t + c] = ((mark.data[m + c] as number) * alpha + (image.data[t + c] as number) * below * (1 - alpha)) / out;
      }
      image.data[t + 3] = out * 255;
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
