import sharp, { type Sharp } from "sharp";

/** Photo-like RGB pixels: smooth gradients with mild noise, as a camera image would hold. */
export function photoPixels(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = (Math.random() - 0.5) * 24;
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
