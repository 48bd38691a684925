import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL } from "../src/config";
import { costMicros, IMAGE_OUTPUT_TOKENS, PRICE_VERSION, priceOf } from "../src/domain/pricing";

describe("the price table", () => {
  it("prices an image of the default model at about $0.039, and its prompt at $0.30 per 1M tokens", () => {
    const price = priceOf("gemini", DEFAULT_IMAGE_MODEL);
    expect(price).not.toBeNull();
    if (!price) return;
    // 1290 tokens at $30 per 1M: $0.0387.
    expect(costMicros(price, { input: {}, output: { image: IMAGE_OUTPUT_TOKENS } })).toBe(38_700);
    // A 200-token prompt: 200 x $0.30 / 1M = $0.00006.
    expect(costMicros(price, { input: { text: 200 }, output: {} })).toBe(60);
    // Both, with the text the model writes beside the image ($2.50 per 1M, rounded up per line).
    expect(costMicros(price, { input: { text: 200 }, output: { image: IMAGE_OUTPUT_TOKENS, text: 3 } })).toBe(38_768);
  });

  it("prices the enhancer's text model at Google's published rates", () => {
    const price = priceOf("gemini", DEFAULT_TEXT_MODEL);
    expect(price && costMicros(price, { input: { text: 1_000_000 }, output: { text: 1_000_000 } })).toBe(2_800_000);
  });

  it("makes the offline preview model free, and knows no price it was not given", () => {
    const preview = priceOf("preview", "preview-gradient");
    expect(preview && costMicros(preview, { input: { text: 500 }, output: { image: IMAGE_OUTPUT_TOKENS } })).toBe(0);
    expect(priceOf("gemini", "gemini-9-imaginary")).toBeNull();
  });

  it("names the version every usage record stores", () => {
    expect(PRICE_VERSION).toMatch(/^\d{4}-\d\d-\d\d$/);
  });
});
