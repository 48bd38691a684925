import { describe, expect, it } from "vitest";
import { version } from "../../package.json";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, fetchWorker } from "./support/app";
import { GEMINI_ENV } from "./support/generation";

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
    // Gemini 2.5 Flash Image takes at most 3 images per prompt.
    expect(data.limits.maxReferences).toBe(3);
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

  it("publishes the price table, the price of one image and the provider this deployment uses", async () => {
    const response = await fetchWorker("http://banatie.test/api/info");
    const { data } = (await response.json()) as ApiBody<"getInfo", 200>;

    expect(data.pricing.priceVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // Google's rates in USD micros per million tokens: $0.30 in, $30 out for image tokens.
    expect(data.pricing.models).toContainEqual({
      provider: "gemini",
      model: "gemini-2.5-flash-image",
      usdMicrosPerMillionTokens: { input: { text: 300_000, image: 300_000 }, output: { text: 2_500_000, image: 30_000_000 } },
    });
    expect(data.pricing.models.map((entry) => entry.model)).toContain("gemini-2.5-flash");
    // 1290 image tokens at $30 per million: about $0.039 an image.
    expect(data.pricing.image).toEqual({ model: "gemini-2.5-flash-image", outputTokens: 1290, usdMicros: 38_700 });
    // The test Worker has no GEMINI_API_KEY: the offline preview answers, at no cost.
    expect(data.pricing.provider).toBe("preview");
    expect(data.pricing.inUse).toEqual({ image: "banatie-preview-1", enhancement: "banatie-templates-1" });
  });

  it("says when the deployment generates with Gemini, and with which models", async () => {
    const response = await api("/api/info", { env: GEMINI_ENV });
    const { data } = (await response.json()) as ApiBody<"getInfo", 200>;

    expect(data.pricing.provider).toBe("gemini");
    expect(data.pricing.inUse).toEqual({ image: "gemini-2.5-flash-image", enhancement: "gemini-2.5-flash" });
  });
});
