import { ApiError, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
});
