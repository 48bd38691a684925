import { createHash } from "node:crypto";
import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRgbPng } from "../gemini-fake/png.ts";
import { type GeminiFake, startGeminiFake } from "../gemini-fake/server.ts";

let fake: GeminiFake;
let ai: GoogleGenAI;
const MODEL = "gemini-2.5-flash-image";

beforeAll(async () => {
  fake = await startGeminiFake({ apiKey: "fake-key" });
  // The official SDK, as the Worker will use it: the fake must satisfy the real client.
  ai = new GoogleGenAI({ apiKey: "fake-key", httpOptions: { baseUrl: fake.url } });
});

afterAll(() => fake?.stop());

function generateImage(prompt: string, aspectRatio = "1:1") {
  return ai.models.generateContent({
    model: MODEL,
    contents: prompt,
    config: { responseModalities: ["IMAGE"], imageConfig: { aspectRatio } },
  });
}

function pngSize(base64: string): { width: number; height: number } {
  const bytes = Buffer.from(base64, "base64");
  expect(bytes.subarray(1, 4).toString("ascii")).toBe("PNG");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe("Gemini-protocol fake", () => {
  it("answers the SDK's free model metadata call, and refuses a wrong key, without recording a generation", async () => {
    const before = fake.requests.length;
    const model = await ai.models.get({ model: MODEL });
    expect(model.name).toBe(`models/${MODEL}`);

    const stranger = new GoogleGenAI({ apiKey: "wrong-key", httpOptions: { baseUrl: fake.url } });
    await expect(stranger.models.get({ model: MODEL })).rejects.toBeInstanceOf(ApiError);
    expect(fake.requests.length).toBe(before);
  });

  it("answers generateContent with a PNG of the size Gemini returns for the aspect ratio", async () => {
    const response = await generateImage("a red bicycle", "16:9");
    const image = response.candidates?.[0]?.content?.parts?.find((part) => part.inlineData)?.inlineData;

    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(image?.mimeType).toBe("image/png");
    expect(pngSize(image?.data ?? "")).toEqual({ width: 1344, height: 768 });
    expect(response.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    expect(fake.requests.at(-1)).toMatchObject({ model: MODEL, apiKey: "fake-key" });
  });

  it("reports usageMetadata by modality: text prompt tokens, 1290 image tokens plus the text of the answer", async () => {
    const prompt = "a lighthouse on a cliff at dusk, long exposure";
    const image = await generateImage(prompt);
    const promptTokens = Math.ceil(prompt.length / 4);
    const said = image.candidates?.[0]?.content?.parts?.find((part) => part.text)?.text ?? "";
    const saidTokens = Math.ceil(said.length / 4);

    expect(saidTokens).toBeGreaterThan(0);
    expect(image.usageMetadata).toEqual({
      promptTokenCount: promptTokens,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
      candidatesTokenCount: 1290 + saidTokens,
      candidatesTokensDetails: [
        { modality: "TEXT", tokenCount: saidTokens },
        { modality: "IMAGE", tokenCount: 1290 },
      ],
      totalTokenCount: promptTokens + 1290 + saidTokens,
    });

    const text = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "x [fake:reply=twelve chars]" });
    expect(text.usageMetadata?.promptTokensDetails).toEqual([{ modality: "TEXT", tokenCount: 7 }]);
    expect(text.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: "TEXT", tokenCount: 3 }]);

    // A refused prompt was still read: its tokens count, and there are no candidates to count.
    const blocked = await generateImage("bad [fake:block=SAFETY]");
    expect(blocked.usageMetadata?.promptTokenCount).toBe(6);
    expect(blocked.usageMetadata?.candidatesTokensDetails).toBeUndefined();
  });

  it("rejects a wrong API key as the real API does", async () => {
    const stranger = new GoogleGenAI({ apiKey: "wrong", httpOptions: { baseUrl: fake.url } });
    const attempt = stranger.models.generateContent({ model: MODEL, contents: "x" });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
    await expect(attempt).rejects.toMatchObject({ status: 400 });
  });

  it("follows the scripted behaviours written into the prompt", async () => {
    await expect(generateImage("busy [fake:status=429]")).rejects.toMatchObject({ status: 429 });
    await expect(generateImage("broken [fake:status=503]")).rejects.toMatchObject({ status: 503 });

    const blocked = await generateImage("bad [fake:block=PROHIBITED_CONTENT]");
    expect(blocked.promptFeedback?.blockReason).toBe("PROHIBITED_CONTENT");
    expect(blocked.candidates).toBeUndefined();

    const unsafe = await generateImage("unsafe [fake:finish=IMAGE_SAFETY]");
    expect(unsafe.candidates?.[0]?.finishReason).toBe("IMAGE_SAFETY");
    expect(unsafe.candidates?.[0]?.content?.parts ?? []).toHaveLength(0);

    const textOnly = await generateImage("chatty [fake:text-only]");
    expect(textOnly.candidates?.[0]?.content?.parts?.some((part) => part.inlineData)).toBe(false);
    expect(textOnly.text).toContain("chatty");

    const reply = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: 'x [fake:reply={"ok":true}]' });
    expect(reply.text).toBe('{"ok":true}');
  });

  it("fails the first calls of a prompt when asked, then succeeds (for retry tests)", async () => {
    const prompt = `flaky ${Math.random()} [fake:fail-first=2]`;
    await expect(generateImage(prompt)).rejects.toMatchObject({ status: 503 });
    await expect(generateImage(prompt)).rejects.toMatchObject({ status: 503 });
    const third = await generateImage(prompt);
    expect(third.candidates?.[0]?.finishReason).toBe("STOP");
  });

  it("waits as long as a delay directive says", async () => {
    const started = performance.now();
    await generateImage("slow [fake:delay=300]");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  describe("image parts", () => {
    const png = (width: number, height: number, red = 0) =>
      encodeRgbPng(width, height, (row) => {
        for (let x = 0; x < width; x++) row[x * 3] = red;
      });
    const imagePart = (bytes: Buffer, mimeType = "image/png") => ({ inlineData: { mimeType, data: bytes.toString("base64") } });
    const withImages = (text: string, ...images: ReturnType<typeof imagePart>[]) =>
      ai.models.generateContent({
        model: MODEL,
        contents: [{ role: "user", parts: [...images, { text }] }],
        config: { responseModalities: ["IMAGE"], imageConfig: { aspectRatio: "1:1" } },
      });

    it("records each image part as its MIME type, size, sha256 and pixel size, in order, and counts it by Google's tiles", async () => {
      const small = png(100, 80, 10);
      const wide = png(800, 400, 20);
      const response = await withImages("combine these", imagePart(small), imagePart(wide));

      expect(response.candidates?.[0]?.finishReason).toBe("STOP");
      const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
      expect(fake.requests.at(-1)?.body.contents?.[0]?.parts).toEqual([
        { inlineData: { mimeType: "image/png", bytes: small.length, sha256: sha256(small), width: 100, height: 80 } },
        { inlineData: { mimeType: "image/png", bytes: wide.length, sha256: sha256(wide), width: 800, height: 400 } },
        { text: "combine these" },
      ]);
      // 258 for an image within 384x384; 2x1 tiles of 768 for 800x400.
      const textTokens = Math.ceil("combine these".length / 4);
      expect(response.usageMetadata?.promptTokensDetails).toEqual([
        { modality: "TEXT", tokenCount: textTokens },
        { modality: "IMAGE", tokenCount: 258 + 2 * 258 },
      ]);
      expect(response.usageMetadata?.promptTokenCount).toBe(textTokens + 3 * 258);
      expect(fake.requests.at(-1)?.usageMetadata).toEqual(response.usageMetadata);
    });

    it("draws another picture for the same prompt with other images", async () => {
      const picture = async (red: number) =>
        (await withImages("same words", imagePart(png(16, 16, red)))).candidates?.[0]?.content?.parts?.find(
          (part) => part.inlineData,
        )?.inlineData?.data;
      expect(await picture(1)).not.toBe(await picture(2));
    });

    it.each([
      ["a fourth image", () => withImages("four", ...[1, 2, 3, 4].map((red) => imagePart(png(8, 8, red)))), /at most 3/],
      ["a GIF", () => withImages("gif", imagePart(Buffer.from("GIF89a\x01\x00\x01\x00"), "image/gif")), /MIME type/],
      ["PNG bytes sent as JPEG", () => withImages("liar", imagePart(png(8, 8), "image/jpeg")), /not a valid image\/jpeg/],
      [
        "text bytes sent as WebP",
        () => withImages("text", imagePart(Buffer.from("hello"), "image/webp")),
        /not a valid image\/webp/,
      ],
    ])("refuses %s with 400 INVALID_ARGUMENT, as Google does", async (_, send, message) => {
      const attempt = send();
      await expect(attempt).rejects.toBeInstanceOf(ApiError);
      await expect(attempt).rejects.toMatchObject({ status: 400, message: expect.stringMatching(message) });
      // Recorded all the same, so a test can see what was refused.
      expect(fake.requests.at(-1)?.body.contents?.[0]?.parts?.[0]).toMatchObject({
        inlineData: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      });
      expect(fake.requests.at(-1)?.usageMetadata).toBeUndefined();
    });

    it("refuses a request over 20 MiB with 400 and still answers it", async () => {
      const huge = Buffer.alloc(16 * 1024 * 1024, 1);
      huge.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      // 16 MiB is 21.3 MiB as base64.
      const attempt = withImages("too big", imagePart(huge));
      await expect(attempt).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/exceeds the limit/) });
    });
  });
});
