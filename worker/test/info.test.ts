import { describe, expect, it } from "vitest";
import { version } from "../../package.json";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { fetchWorker } from "./support/app";

describe("GET /api/info", () => {
  it("publishes the limits, formats, aspect ratios and templates users build against", async () => {
    const response = await fetchWorker("http://banatie.test/api/info");
    const { success, data } = (await response.json()) as ApiBody<"getInfo", 200>;

    expect(response.status).toBe(200);
    expect(success).toBe(true);
    expect(data.name).toBe("Banatie");
    expect(data.version).toBe(version);
    expect(data.limits.maxUploadBytes).toBe(5 * 1024 * 1024);
    expect(data.limits.maxPromptLength).toBe(5000);
    expect(data.transformations.maxOutputPixels).toBe(8 * 1024 * 1024);
    // JPEG's encoder needs several times WebP's memory, so its outputs have a bound of their own.
    expect(data.transformations.maxJpegOutputPixels).toBe(2560 * 1024);
    expect(data.transformations.maxJpegOutputPixelsFullChroma).toBe(1024 * 1024);
    expect(data.formats.output).toEqual(["png", "jpeg", "webp"]);
    expect(data.formats.upload).toEqual(["image/png", "image/jpeg", "image/webp"]);
    const ratios = data.aspectRatios.map((entry) => entry.ratio);
    expect(ratios).toEqual(expect.arrayContaining(["1:1", "3:4", "4:3", "16:9", "21:9", "9:16", "2:3", "3:2", "4:5", "5:4"]));
    expect(ratios).toHaveLength(10);
    for (const { ratio, width, height } of data.aspectRatios) {
      const [w, h] = ratio.split(":").map(Number) as [number, number];
      // Gemini's sizes round to multiples of 16, so the ratio holds within a few percent.
      expect(Math.abs(width / height - w / h) / (w / h)).toBeLessThan(0.05);
    }
    expect(data.templates.map((template) => template.id).sort()).toEqual([
      "comic",
      "general",
      "illustration",
      "minimalist",
      "photorealistic",
      "product",
      "sticker",
    ]);
  });
});
