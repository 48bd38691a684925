import { describe, expect, it } from "vitest";
import { measureEncode, noiseRgba, photoRgba } from "../../bench/encode-memory.ts";
import { ASPECT_RATIOS } from "../src/domain/catalog";
import { JPEG_ENCODER_MEMORY_BUDGET, MAX_JPEG_OUTPUT_PIXELS } from "../src/domain/limits";

const MIB = 1024 * 1024;
// The largest square JPEG a transformation may produce: exactly at the limit.
const SIDE = Math.sqrt(MAX_JPEG_OUTPUT_PIXELS);

describe("the JPEG encoder's memory at MAX_JPEG_OUTPUT_PIXELS", () => {
  it("is a square's worth of pixels, so the largest JPEG output is measured exactly", () => {
    expect(Number.isInteger(SIDE)).toBe(true);
  });

  it.each([
    ["noise", noiseRgba],
    ["a photo", photoRgba],
  ])("stays within JPEG_ENCODER_MEMORY_BUDGET for %s at q100", async (_name, pixels) => {
    // A fresh WASM instance: its memory after one encode is what the encoder needed, and what an
    // isolate keeps from then on.
    const { after, bytes } = await measureEncode("jpeg", pixels(SIDE, SIDE), SIDE, SIDE, { quality: 100 });
    expect(bytes).toBeGreaterThan(0);
    expect(after / MIB, "MiB of encoder memory").toBeLessThanOrEqual(JPEG_ENCODER_MEMORY_BUDGET / MIB);
  });

  it("holds every generated image, which may be stored as JPEG", () => {
    for (const [ratio, { width, height }] of Object.entries(ASPECT_RATIOS)) {
      expect(width * height, ratio).toBeLessThanOrEqual(MAX_JPEG_OUTPUT_PIXELS);
    }
  });
});
