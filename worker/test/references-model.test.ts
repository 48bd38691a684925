import type { BatchItem } from "drizzle-orm/batch";
import { describe, expect, it } from "vitest";
import { REFERENCE_MAX_INLINE_BYTES, REFERENCE_MAX_INLINE_SIDE } from "../src/domain/limits";
import { encodeImage } from "../src/images/codec";
import { aliasWriteStatements, type Resolution, referenceSpecs, resolveImageRefs } from "../src/services/aliases";
import { loadReferences } from "../src/services/references";
import type { ObjectStore } from "../src/storage";
import { api } from "./support/app";
import { withDb } from "./support/fixtures";
import { type FakeImagePart, fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";
import { imageFile } from "./support/images";
import { geminiModels, testStore, uploadReference } from "./support/references";

/** The parts of the one image-model call whose prompt holds `tag`. */
async function partsSeen(tag: string) {
  const calls = await fakeRequests(tag);
  expect(calls).toHaveLength(1);
  return calls[0]?.body.contents.flatMap((content) => content.parts) ?? [];
}

/**
 * A PNG of random-ish red over smooth green and blue (megabytes that PNG cannot squeeze), or of
 * random-ish colour everywhere (which not even JPEG at quality 85 can).
 */
async function noisyPng(width: number, height: number, everywhere = false): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state & 255;
  };
  for (let i = 0, pixel = 0; i < data.length; i += 4, pixel++) {
    const smooth = [(pixel % width) & 255, Math.floor(pixel / width) & 255];
    data.set([next(), ...(everywhere ? [next(), next()] : smooth), 255], i);
  }
  return (await encodeImage({ data, width, height }, "png")).bytes;
}

describe("references reach Gemini as inline images before one text part", () => {
  it.each([
    [1, ["png"]],
    [2, ["png", "jpeg"]],
    [3, ["png", "jpeg", "webp"]],
  ] as const)("sends %i reference(s) in order, as stored, then the legend and the prompt", async (_, formats) => {
    const { key } = await freshProjectKey();
    const stored = [];
    for (const [index, format] of formats.entries()) {
      const bytes = await imageFile(format, 64 + index * 10, 48);
      stored.push(await uploadReference(key.key, bytes, `ref-${index}.${format}`, index === 1 ? null : `@ref${index}`));
    }
    const references = await loadReferences({ store: testStore() }, stored);
    const tag = marker();
    const generated = await geminiModels().imageModel.generate({
      prompt: `put them together ${tag}`,
      aspectRatio: "1:1",
      references,
    });
    // Priced as image input: 258 tokens for each of these small images.
    expect(generated.tokens?.input.image).toBe(formats.length * 258);

    const parts = await partsSeen(tag);
    expect(parts).toHaveLength(formats.length + 1);
    expect(parts.slice(0, -1).map((part) => part.inlineData)).toEqual(
      stored.map(
        ({ image }): FakeImagePart => ({
          mimeType: image.mimeType,
          bytes: image.bytes,
          sha256: image.sha256,
          width: image.width,
          height: image.height,
        }),
      ),
    );
    expect(stored.map(({ image }) => image.mimeType)).toEqual(formats.map((format) => `image/${format}`));
    const names = ["image 1 = @ref0", "image 2 = an image without an alias", "image 3 = @ref2"].slice(0, formats.length);
    expect(parts.at(-1)).toEqual({ text: `Reference images above, in order: ${names.join(", ")}.\nput them together ${tag}` });
  });

  it("takes references as the alias resolver gives them: @hero and an id reach the model in order", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("webp", 90, 60), "hero.webp");
    const logo = await uploadReference(key.key, await imageFile("png", 30, 30), "logo.png");
    const projectId = scope.project.id;
    const resolutions = await withDb(async (db) => {
      const writes = aliasWriteStatements(db, { projectId, imageId: hero.image.id, alias: "@hero" });
      const [first, ...rest] = writes.statements as [BatchItem<"pg">, ...BatchItem<"pg">[]];
      await db.batch([first, ...rest]);
      const specs = referenceSpecs([
        ["referenceImages.0", "@hero"],
        ["referenceImages.1", logo.image.id],
      ]);
      return resolveImageRefs(db, { projectId }, specs, { flowId: null });
    });
    const references = await loadReferences({ store: testStore() }, resolutions as Resolution[]);
    const tag = marker();
    await geminiModels().imageModel.generate({ prompt: `@hero holding the logo ${tag}`, aspectRatio: "1:1", references });

    const parts = await partsSeen(tag);
    expect(parts.map((part) => part.inlineData?.sha256 ?? part.text)).toEqual([
      hero.image.sha256,
      logo.image.sha256,
      `Reference images above, in order: image 1 = @hero, image 2 = an image without an alias.\n@hero holding the logo ${tag}`,
    ]);
  });

  it("shrinks a 4.8 MB upload to 1536 px on its longest side before sending it", async () => {
    const { key } = await freshProjectKey();
    const bytes = await noisyPng(1800, 1200);
    expect(bytes.byteLength).toBeGreaterThan(REFERENCE_MAX_INLINE_BYTES);
    expect(bytes.byteLength).toBeLessThan(5 * 1024 * 1024);
    const stored = await uploadReference(key.key, bytes, "large.png", "@large");
    const references = await loadReferences({ store: testStore() }, [stored]);
    const tag = marker();
    await geminiModels().imageModel.generate({ prompt: `make it blue ${tag}`, aspectRatio: "4:3", references });

    const [image, text] = await partsSeen(tag);
    // Noise stays over 3 MiB as a PNG even at 1536 px, so it leaves as a JPEG.
    expect(image?.inlineData).toMatchObject({ mimeType: "image/jpeg", width: REFERENCE_MAX_INLINE_SIDE, height: 1024 });
    expect(image?.inlineData?.bytes).toBeLessThanOrEqual(REFERENCE_MAX_INLINE_BYTES);
    expect(image?.inlineData?.sha256).not.toBe(stored.image.sha256);
    expect(text?.text).toBe(`Reference images above, in order: image 1 = @large.\nmake it blue ${tag}`);
  });

  it("sends even a picture of pure noise within 3 MiB, the worst case for JPEG at quality 85", async () => {
    const { scope } = await freshProjectKey();
    const bytes = await noisyPng(1536, 1536, true);
    const storageKey = `${scope.organization.slug}/${scope.project.slug}/uploads/noise.png`;
    await testStore().put(storageKey, bytes, { contentType: "image/png" });
    const image = { id: crypto.randomUUID(), storageKey };

    const [sent] = await loadReferences({ store: testStore() }, [{ alias: null, image }]);
    expect(sent).toMatchObject({ mimeType: "image/jpeg", width: 1536, height: 1536 });
    expect(sent?.bytes.byteLength).toBeLessThanOrEqual(REFERENCE_MAX_INLINE_BYTES);
  });

  it("fits a PNG wider than 1536 px as a PNG, and a JPEG as a JPEG, keeping their ratios", async () => {
    const { key } = await freshProjectKey();
    const wide = await uploadReference(key.key, await imageFile("png", 2000, 1000), "wide.png", "@wide");
    const tall = await uploadReference(key.key, await imageFile("jpeg", 900, 1800), "tall.jpg", "@tall");
    const references = await loadReferences({ store: testStore() }, [wide, tall]);
    const tag = marker();
    await geminiModels().imageModel.generate({ prompt: `side by side ${tag}`, aspectRatio: "16:9", references });

    const [first, second] = await partsSeen(tag);
    expect(first?.inlineData).toMatchObject({ mimeType: "image/png", width: 1536, height: 768 });
    expect(second?.inlineData).toMatchObject({ mimeType: "image/jpeg", width: 768, height: 1536 });
  });

  it("sends a prompt without references as the one text part it always was", async () => {
    const tag = marker();
    const prompt = `a lighthouse at dusk ${tag}`;
    await geminiModels().imageModel.generate({ prompt, aspectRatio: "1:1" });
    await geminiModels().imageModel.generate({ prompt: `${prompt} again`, aspectRatio: "1:1", references: [] });

    const calls = await fakeRequests(tag);
    expect(calls.map((call) => call.body.contents)).toEqual([
      [{ role: "user", parts: [{ text: prompt }] }],
      [{ role: "user", parts: [{ text: `${prompt} again` }] }],
    ]);
  });

  it("keeps text-to-image sending its prompt alone, as one text part", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const prompt = `a red fox in snow ${tag}`;
    const response = await api("/api/text-to-image", { key: key.key, body: { prompt, autoEnhance: false }, env: GEMINI_ENV });
    expect(response.status, await response.clone().text()).toBe(201);
    await response.body?.cancel();

    expect((await fakeRequests(tag)).map((call) => call.body.contents)).toEqual([[{ role: "user", parts: [{ text: prompt }] }]]);
  });

  it("reads the references' objects from storage all at once, not one after another", async () => {
    const { key } = await freshProjectKey();
    const stored = [];
    for (const format of ["png", "jpeg", "webp"] as const)
      stored.push(await uploadReference(key.key, await imageFile(format), `r.${format}`));
    const store = testStore();
    let reading = 0;
    let mostAtOnce = 0;
    const counting: ObjectStore = {
      ...store,
      async get(...args) {
        mostAtOnce = Math.max(mostAtOnce, ++reading);
        try {
          return await store.get(...args);
        } finally {
          reading--;
        }
      },
    };
    const references = await loadReferences({ store: counting }, stored);

    expect(references.map((reference) => reference.mimeType)).toEqual(["image/png", "image/jpeg", "image/webp"]);
    expect(mostAtOnce).toBe(3);
  });

  it("refuses a reference whose stored file is gone, naming it, before any model call", async () => {
    const { key } = await freshProjectKey();
    const stored = await uploadReference(key.key, await imageFile("png"), "gone.png", "@gone");
    await testStore().delete(stored.image.storageKey);

    await expect(loadReferences({ store: testStore() }, [stored])).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
      message: expect.stringContaining(`Reference image 1 (${stored.image.id})`),
    });
  });
});
