import { ASPECT_RATIOS } from "../../domain/catalog";
import { NO_TOKENS } from "../../domain/token-bounds";
import { encodeImage } from "../../images/codec";
import type { ImageModel } from "../image-model";

/**
 * The offline stand-in for Gemini, used when no GEMINI_API_KEY is set: a deterministic picture
 * of the size Gemini would return for the ratio, derived from the prompt, with "PREVIEW" written
 * across it so nobody mistakes it for a generated image. Responses say `provider: "preview"`.
 */
export const PREVIEW_MODEL = "banatie-preview-1";

/** 5x7 glyphs, one row of 5 bits per byte, for the letters of PREVIEW. */
const GLYPHS: Record<string, number[]> = {
  P: [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
  R: [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
  E: [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
  V: [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
  I: [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
  W: [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b11011, 0b10001],
};
const LABEL = "PREVIEW";

async function seedOf(prompt: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(prompt)));
}

function paint(width: number, height: number, seed: Uint8Array): Uint8ClampedArray {
  const data = new Uint8ClampedArray(width * height * 4);
  const [r1, g1, b1, r2, g2, b2, angle = 0, rings = 0] = seed;
  const tilt = (angle / 255) * Math.PI;
  const [cos, sin] = [Math.cos(tilt), Math.sin(tilt)];
  const ringCount = 2 + (rings % 6);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width - 0.5;
      const v = y / height - 0.5;
      const along = (u * cos + v * sin + 0.75) / 1.5;
      const ring = 0.5 + 0.5 * Math.cos(Math.hypot(u, v) * ringCount * 2 * Math.PI);
      const mix = Math.min(1, Math.max(0, along * 0.8 + ring * 0.2));
      const i = (y * width + x) * 4;
      data[i] = (r1 as number) * (1 - mix) + (r2 as number) * mix;
      data[i + 1] = (g1 as number) * (1 - mix) + (g2 as number) * mix;
      data[i + 2] = (b1 as number) * (1 - mix) + (b2 as number) * mix;
      data[i + 3] = 255;
    }
  }
  return data;
}

function writeLabel(data: Uint8ClampedArray, width: number, height: number): void {
  const scale = Math.max(2, Math.floor(width / 60));
  const labelWidth = LABEL.length * 6 * scale;
  const left = Math.floor((width - labelWidth) / 2);
  const top = Math.floor(height / 2 - 3.5 * scale);
  [...LABEL].forEach((letter, index) => {
    const rows = GLYPHS[letter] ?? [];
    rows.forEach((bits, row) => {
      for (let column = 0; column < 5; column++) {
        if (!(bits & (1 << (4 - column)))) continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const x = left + (index * 6 + column) * scale + dx;
            const y = top + row * scale + dy;
            const i = (y * width + x) * 4;
            data[i] = data[i + 1] = data[i + 2] = 255;
          }
        }
      }
    });
  });
}

export function createPreviewImageModel(): ImageModel {
  return {
    provider: "preview",
    // In-process: always there.
    async checkReachable() {},
    model: PREVIEW_MODEL,
    // It runs in the Worker: no tokens, no cost.
    tokenBound: () => NO_TOKENS,
    async generate({ prompt, aspectRatio }) {
      const { width, height } = ASPECT_RATIOS[aspectRatio];
      const data = paint(width, height, await seedOf(prompt));
      writeLabel(data, width, height);
      const png = await encodeImage({ data, width, height }, "png");
      return { bytes: png.bytes, mimeType: "image/png", attempts: 1 };
    },
  };
}
