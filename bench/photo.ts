import sharp, { type Sharp } from "sharp";

/** A small seeded generator (mulberry32), so the same call gives the same pixels on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Photo-like RGB pixels: smooth gradients with mild noise, as a camera image would hold. The
 * noise is seeded, so sizes and PSNR figures compare across runs.
 */
export function photoPixels(width: number, height: number, seed = 1): Buffer {
  const random = seededRandom(seed);
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = (random() - 0.5) * 24;
      raw[i] = 128 + 100 * Math.sin(x / 90) + noise;
      raw[i + 1] = 128 + 90 * Math.cos(y / 70) + noise;
      raw[i + 2] = (x + y) / 13 + noise;
    }
  }
  return raw;
}

/** `photoPixels` as a sharp pipeline, ready to encode in any format. */
export function photo(width: number, height: number): Sharp {
  return sharp(photoPixels(width, height), { raw: { width, height, channels: 3 } });
}
