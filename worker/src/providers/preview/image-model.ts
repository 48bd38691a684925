import { ASPECT_RATIOS } from "../../domain/catalog";
import { sha256Hex } from "../../domain/hash";
import { MAX_IMAGE_PIXELS } from "../../domain/limits";
import { NO_TOKENS } from "../../domain/token-bounds";
import { decodeImage, encodeImage } from "../../images/codec";
import { blend } from "../../images/transform/pixels";
import { resize } from "../../images/transform/resize";
import type { ImageModel, ReferenceImage } from "../image-model";

/**
 * The offline stand-in for Gemini, used when no GEMINI_API_KEY is set: a deterministic picture
 * of the size Gemini would return for the ratio, derived from the prompt, with "PREVIEW" written
 * across it so nobody mistakes it for a generated image. Responses say `provider: "preview"`.
 * Reference images are drawn over it, so offline runs show which arrived, in which order.
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

/**
 * The picture's colours come from the prompt and, when there are references, from their
 * contents too: a regeneration whose alias now names another image gives another picture.
 */
async function seedOf(prompt: string, references: readonly ReferenceImage[]): Promise<Uint8Array> {
  const hashes = await Promise.all(references.map(({ bytes }) => sha256Hex(bytes)));
  const text = references.length === 0 ? prompt : `${prompt}\n${hashes.join("\n")}`;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

interface Cell {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Share of the picture one reference takes, and the band several share, with gaps between them. */
const SINGLE_CELL = 0.7;
const BAND_HEIGHT = 0.5;
const GAP = 0.04;

/** Where each reference goes: one in a centred cell of 70%, two or three side by side across the middle. */
function referenceCells(width: number, height: number, count: number): Cell[] {
  if (count === 1) {
    const cell = { width: Math.round(width * SINGLE_CELL), height: Math.round(height * SINGLE_CELL) };
    return [{ ...cell, x: Math.round((width - cell.width) / 2), y: Math.round((height - cell.height) / 2) }];
  }
  const gap = Math.round(width * GAP);
  const cellWidth = Math.floor((width - gap * (count + 1)) / count);
  const cellHeight = Math.round(height * BAND_HEIGHT);
  const y = Math.round((height - cellHeight) / 2);
  return Array.from({ length: count }, (_, index) => ({
    x: gap + index * (cellWidth + gap),
    y,
    width: cellWidth,
    height: cellHeight,
  }));
}

/**
 * Draws each reference inside its cell, whole and centred (`contain`), one decode at a time. The
 * references were fitted for sending (services/references.ts), so each decode is small.
 */
async function drawReferences(
  canvas: { data: Uint8ClampedArray; width: number; height: number },
  references: readonly ReferenceImage[],
) {
  const cells = referenceCells(canvas.width, canvas.height, references.length);
  for (const [index, reference] of references.entries()) {
    const cell = cells[index] as Cell;
    const decoded = await decodeImage(reference.bytes, MAX_IMAGE_PIXELS);
    const scale = Math.min(cell.width / decoded.width, cell.height / decoded.height);
    const width = Math.max(1, Math.round(decoded.width * scale));
    const height = Math.max(1, Math.round(decoded.height * scale));
    const fitted = await resize(decoded, width, height);
    blend(canvas, fitted, cell.x + Math.round((cell.width - width) / 2), cell.y + Math.round((cell.height - height) / 2), 1);
  }
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

/** Writes PREVIEW across the middle, or along the top edge when references fill the middle. */
function writeLabel(data: Uint8ClampedArray, width: number, height: number, atTop: boolean): void {
  const scale = Math.max(2, Math.floor(width / 60));
  const labelWidth = LABEL.length * 6 * scale;
  const left = Math.floor((width - labelWidth) / 2);
  const top = atTop ? scale : Math.floor(height / 2 - 3.5 * scale);
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
    async generate({ prompt, aspectRatio, references = [] }) {
      const { width, height } = ASPECT_RATIOS[aspectRatio];
      const data = paint(width, height, await seedOf(prompt, references));
      if (references.length > 0) await drawReferences({ data, width, height }, references);
      writeLabel(data, width, height, references.length > 0);
      const png = await encodeImage({ data, width, height }, "png");
      return { bytes: png.bytes, mimeType: "image/png", attempts: 1 };
    },
  };
}
