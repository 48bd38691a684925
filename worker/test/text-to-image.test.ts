import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody, Schema } from "../../site/src/lib/api-contract";
import { ASPECT_RATIOS } from "../src/domain/catalog";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { inspectImage } from "../src/images/inspect";
import { api, readProblem } from "./support/app";
import { quotaUsed, withDb } from "./support/fixtures";
import { decodeImage, download, fakeRequests, freshProjectKey, GEMINI_ENV, marker, scriptFake } from "./support/generation";

async function generate(key: string, body: Record<string, unknown>, env: Record<string, unknown> = {}) {
  const response = await api("/api/text-to-image", { key, body, env });
  if (response.status !== 201) return { response, data: null as unknown as Schema<"Generation"> };
  return { response, data: ((await response.json()) as ApiBody<"textToImage", 201>).data };
}

describe("POST /api/text-to-image offline (no GEMINI_API_KEY)", () => {
  it("draws a labelled preview of the requested ratio, stores it, and says it is a preview", async () => {
    const { scope, key } = await freshProjectKey();
    const { response, data } = await generate(key.key, {
      prompt: "Красивый закат над морем",
      aspectRatio: "16:9",
      filename: "Закат над морем!",
    });

    expect(response.status).toBe(201);
    expect(response.headers.get("x-ratelimit-remaining")).toBe("99");
    expect(data).toMatchObject({
      provider: "preview",
      width: 1344,
      height: 768,
      format: "png",
      mimeType: "image/png",
      aspectRatio: "16:9",
    });
    expect(data.enhancement).toMatchObject({
      applied: true,
      enhancer: "template",
      detectedLanguage: "ru",
      translated: false,
      template: "general",
    });
    expect(data.enhancement?.applied && data.enhancement.enhancedPrompt.startsWith("Красивый закат над морем")).toBe(true);
    expect(data.prompt).not.toBe("Красивый закат над морем");
    for (const stage of ["enhanceMs", "generateMs", "encodeMs", "storeMs", "totalMs"] as const)
      expect(data.timings[stage]).toBeGreaterThanOrEqual(0);

    expect(new URL(data.url).pathname).toMatch(
      new RegExp(`^/api/images/${scope.organization.slug}/${scope.project.slug}/generated/zakat-nad-morem-[0-9a-f]{16}\\.png$`),
    );
    const { response: served, bytes } = await download(data.url);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("content-disposition")).toBe('inline; filename="zakat-nad-morem.png"');
    expect(bytes.byteLength).toBe(data.bytes);
    expect(await decodeImage(bytes, "image/png")).toMatchObject({ width: 1344, height: 768 });

    // The same prompt draws the same picture.
    const again = await generate(key.key, { prompt: "Красивый закат над морем", aspectRatio: "16:9" });
    expect(again.data.sha256).toBe(data.sha256);
  });

  it("stores each format, in five of the ratios, at the size the response states", async () => {
    const { key } = await freshProjectKey();
    const cases: [string, string][] = [
      ["png", "1:1"],
      ["jpeg", "3:4"],
      ["webp", "21:9"],
      ["jpeg", "9:16"],
      ["webp", "4:3"],
    ];
    for (const [format, ratio] of cases) {
      const { data } = await generate(key.key, {
        prompt: `a lighthouse ${format} ${ratio}`,
        outputFormat: format,
        aspectRatio: ratio,
        autoEnhance: false,
      });
      const expected = ASPECT_RATIOS[ratio as keyof typeof ASPECT_RATIOS];
      expect(data).toMatchObject({ format, width: expected.width, height: expected.height, enhancement: null });
      const { bytes } = await download(data.url);
      expect(inspectImage(bytes, MAX_IMAGE_PIXELS)).toMatchObject({ format, width: expected.width, height: expected.height });
      expect(await decodeImage(bytes, data.mimeType)).toMatchObject({ width: expected.width, height: expected.height });
    }
  });

  it("records the generation and the image in the database", async () => {
    const { scope, key } = await freshProjectKey();
    const { data } = await generate(key.key, {
      prompt: "a red bicycle",
      outputFormat: "webp",
      quality: 60,
      enhancementOptions: { template: "product" },
    });
    const rows = await withDb(async (db) => {
      const generation = await db.execute<Record<string, unknown>>(
        sql`select * from generations where id = ${data.generationId}`,
      );
      const image = await db.execute<Record<string, unknown>>(sql`select * from images where id = ${data.imageId}`);
      return { generation: generation.rows[0], image: image.rows[0] };
    });
    expect(rows.generation).toMatchObject({
      status: "succeeded",
      project_id: scope.project.id,
      api_key_id: key.id,
      original_prompt: "a red bicycle",
      final_prompt: data.prompt,
      template: "product",
      detected_language: "en",
      aspect_ratio: "1:1",
      output_format: "webp",
      provider: "preview",
    });
    expect(rows.image).toMatchObject({
      category: "generated",
      mime_type: "image/webp",
      bytes: data.bytes,
      width: 1024,
      height: 1024,
      sha256: data.sha256,
      generation_id: data.generationId,
    });
  });

  it("rejects bad input naming the field, spending no quota and recording nothing", async () => {
    const { key } = await freshProjectKey();
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: "" }, "prompt"],
      [{ prompt: "x".repeat(5001) }, "prompt"],
      [{ prompt: "x", aspectRatio: "2:1" }, "aspectRatio"],
      [{ prompt: "x", outputFormat: "gif" }, "outputFormat"],
      [{ prompt: "x", quality: 80 }, "quality"],
      [{ prompt: "x", outputFormat: "jpeg", quality: 0 }, "quality"],
      [{ prompt: "x", enhancementOptions: { template: "anime" } }, "enhancementOptions.template"],
      [{ prompt: "x", size: "large" }, ""],
    ];
    for (const [body, field] of cases) {
      const response = await api("/api/text-to-image", { key: key.key, body });
      const problem = await readProblem(response);
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      if (field) expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    const generations = await withDb(
      async (db) =>
        (await db.execute<{ n: number }>(sql`select count(*)::int as n from generations where api_key_id = ${key.id}`)).rows[0]
          ?.n,
    );
    expect(generations).toBe(0);
  });
});

describe("POST /api/text-to-image with Gemini", () => {
  it("sends the enhanced prompt and the aspect ratio to gemini-2.5-flash-image", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptFake({
      marker: tag,
      model: "gemini-2.5-flash",
      text: JSON.stringify({
        enhancedPrompt: `A fluffy ginger cat on a tin roof at golden hour ${tag}`,
        detectedLanguage: "ru",
        translated: true,
        improvements: ["lighting", "translation", "bogus"],
      }),
    });
    const { response, data } = await generate(
      key.key,
      {
        prompt: `кот на крыше ${tag}`,
        aspectRatio: "4:5",
        outputFormat: "jpeg",
        enhancementOptions: { template: "photorealistic" },
      },
      GEMINI_ENV,
    );

    expect(response.status).toBe(201);
    expect(data).toMatchObject({
      provider: "gemini",
      model: "gemini-2.5-flash-image",
      width: 896,
      height: 1152,
      format: "jpeg",
      attempts: 1,
    });
    expect(data.enhancement).toMatchObject({
      applied: true,
      enhancer: "gemini",
      detectedLanguage: "ru",
      translated: true,
      template: "photorealistic",
      improvements: ["lighting", "translation"],
      cached: false,
    });

    const calls = await fakeRequests(tag);
    const imageCall = calls.find((call) => call.model === "gemini-2.5-flash-image");
    const textCall = calls.find((call) => call.model === "gemini-2.5-flash");
    expect(imageCall?.apiKey).toBe("test-gemini-key");
    expect(imageCall?.body.generationConfig).toMatchObject({
      responseModalities: ["IMAGE"],
      imageConfig: { aspectRatio: "4:5" },
    });
    expect(imageCall?.body.contents[0]?.parts[0]?.text).toBe(`A fluffy ginger cat on a tin roof at golden hour ${tag}`);
    expect(textCall?.body.generationConfig?.responseMimeType).toBe("application/json");
    const { bytes } = await download(data.url);
    expect(await decodeImage(bytes, "image/jpeg")).toMatchObject({ width: 896, height: 1152 });
  });

  it("falls back to the original prompt when the enhancer fails, and says so", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptFake({ marker: tag, model: "gemini-2.5-flash", status: 400 });
    const { response, data } = await generate(key.key, { prompt: `a blue whale ${tag}` }, GEMINI_ENV);

    expect(response.status).toBe(201);
    expect(data.enhancement).toMatchObject({ applied: false });
    expect(data.enhancement?.applied === false && data.enhancement.reason).toMatch(/original prompt was used/);
    expect(data.prompt).toBe(`a blue whale ${tag}`);
  });

  it("retries an overloaded model and reports the attempts", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const { response, data } = await generate(
      key.key,
      { prompt: `a fox ${tag} [fake:fail-first=2]`, autoEnhance: false },
      GEMINI_ENV,
    );
    expect(response.status).toBe(201);
    expect(data.attempts).toBe(3);
    expect((await fakeRequests(tag)).length).toBe(3);
  });
});
