import { describe, expect, it } from "vitest";
import { measureEncode, noiseRgba, photoRgba } from "../../bench/encode-memory.ts";
import { ASPECT_RATIOS } from "../src/domain/catalog";
import { JPEG_ENCODER_MEMORY_BUDGET, MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS, MAX_JPEG_OUTPUT_PIXELS } from "../src/domain/limits";
import { FULL_CHROMA_FROM_QUALITY } from "../src/images/jpeg-settings";
import { maxJpegOutputPixels } from "../src/images/transform/geometry";

const MIB = 1024 * 1024;

// The largest JPEG a transformation may produce at each chroma sampling, exactly at its limit, at
// the highest quality of that sampling (the encoder's memory grows with the bytes it writes).
const AT_THE_LIMITS = [
  { sampling: "4:2:0", quality: FULL_CHROMA_FROM_QUALITY - 1, width: 2048, height: 1280 },
  { sampling: "4:4:4", quality: 100, width: 1024, height: 1024 },
];

describe("the JPEG encoder's memory at the JPEG output limits", () => {
  it("measures each limit exactly", () => {
    const [subsampled, fullChroma] = AT_THE_LIMITS;
    expect(subsampled && subsampled.width * subsampled.height).toBe(MAX_JPEG_OUTPUT_PIXELS);
    expect(fullChroma && fullChroma.width * fullChroma.height).toBe(MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS);
    for (const { quality, width, height } of AT_THE_LIMITS) expect(maxJpegOutputPixels(quality)).toBe(width * height);
  });

  for (const { sampling, quality, width, height } of AT_THE_LIMITS) {
    it.each([
      ["noise", noiseRgba],
      ["a photo", photoRgba],
    ])(
      `stays within JPEG_ENCODER_MEMORY_BUDGET for %s at ${width}x${height}, q${quality} (${sampling})`,
      async (_name, pixels) => {
        // A fresh WASM instance: its memory after one encode is what the encoder needed, and what an
        // isolate keeps from then on.
        const { after, bytes } = await measureEncode("jpeg", pixels(width, height), width, height, { quality });
        expect(bytes).toBeGreaterThan(0);
        expect(after / MIB, "MiB of encoder memory").toBeLessThanOrEqual(JPEG_ENCODER_MEMORY_BUDGET / MIB);
      },
    );
  }

  it("holds every generated image at any quality, as it may be stored as JPEG", () => {
    for (const [ratio, { width, height }] of Object.entries(ASPECT_RATIOS)) {
      expect(width * height, ratio).toBeLessThanOrEqual(MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS);
    }
  });
});
