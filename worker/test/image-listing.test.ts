import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, readProblem } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, upload } from "./support/images";

/** A page of either listing: both answer the same shape. */
type Page = ApiBody<"listGeneratedImages", 200>;

let key: string;
const generated: { id: string; prompt: string; format: string; ratio: string }[] = [];

async function list(query: string, path = "/api/images/generated"): Promise<Page> {
  const response = await api(`${path}${query}`, { key });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

beforeAll(async () => {
  key = (await freshProjectKey()).key.key;
  const specs = [
    { prompt: "a red fox in the snow", format: "png", ratio: "1:1" },
    { prompt: "Красная лиса в лесу", format: "webp", ratio: "16:9" },
    { prompt: "a lighthouse at night", format: "jpeg", ratio: "16:9" },
    { prompt: "neon city street", format: "webp", ratio: "9:16" },
    { prompt: "a quiet harbour, foggy", format: "png", ratio: "4:3" },
  ];
  for (const spec of specs) {
    const response = await api("/api/text-to-image", {
      key,
      body: { prompt: spec.prompt, outputFormat: spec.format, aspectRatio: spec.ratio, filename: `pic ${spec.format}` },
    });
    generated.push({ id: ((await response.json()) as ApiBody<"textToImage", 201>).data.imageId, ...spec });
  }
  await upload(key, formWith(await imageFile("png", 40, 40), "upload-one.png"));
  await upload(key, formWith(await imageFile("jpeg", 40, 30), "style.jpg", { category: "references" }));
});

describe("GET /api/images/generated", () => {
  it("lists the project's generated images newest first, with their prompts", async () => {
    const page = await list("");
    expect(page.data.map((image) => image.id)).toEqual(generated.map((image) => image.id).reverse());
    const fox = page.data.find((image) => image.id === generated[0]?.id);
    expect(fox).toMatchObject({
      category: "generated",
      prompt: "a red fox in the snow",
      template: "general",
      model: "banatie-preview-1",
      aspectRatio: "1:1",
    });
    expect(fox?.enhancedPrompt).toMatch(/^a red fox in the snow, /);
    expect(page.pagination).toEqual({ limit: 30, nextCursor: null, hasMore: false });
  });

  it("pages by cursor, and pages stay stable while new images arrive", async () => {
    const first = await list("?limit=2");
    expect(first.data).toHaveLength(2);
    expect(first.pagination.hasMore).toBe(true);

    // A new image arrives between pages: it must not shift what comes next.
    const added = await api("/api/text-to-image", { key, body: { prompt: "a late arrival", autoEnhance: false } });
    const addedId = ((await added.json()) as ApiBody<"textToImage", 201>).data.imageId;

    const seen = [...first.data.map((image) => image.id)];
    let cursor = first.pagination.nextCursor;
    while (cursor) {
      const page = await list(`?limit=2&cursor=${cursor}`);
      seen.push(...page.data.map((image) => image.id));
      cursor = page.pagination.nextCursor;
    }
    expect(seen).toEqual(generated.map((image) => image.id).reverse());
    expect((await list("?limit=1")).data[0]?.id).toBe(addedId);
  });

  it("filters by format, aspect ratio, time and text in prompts or filenames", async () => {
    const ids = (page: Page) => page.data.map((image) => image.id).sort();
    const pick = (predicate: (spec: (typeof generated)[number]) => boolean) =>
      generated
        .filter(predicate)
        .map((image) => image.id)
        .sort();

    expect(ids(await list("?format=webp"))).toEqual(pick((spec) => spec.format === "webp"));
    expect(ids(await list("?aspectRatio=16:9"))).toEqual(pick((spec) => spec.ratio === "16:9"));
    expect(ids(await list("?q=FOX"))).toEqual(pick((spec) => spec.prompt.includes("fox")));
    expect(ids(await list(`?q=${encodeURIComponent("лиса")}`))).toEqual(pick((spec) => spec.prompt.includes("лиса")));
    expect(ids(await list("?q=pic-jpeg"))).toEqual(pick((spec) => spec.format === "jpeg"));
    expect(ids(await list("?q=100%25"))).toEqual([]);
    expect((await list(`?createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).data).toEqual([]);
    expect(
      (await list(`?createdBefore=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&limit=100`)).data.length,
    ).toBeGreaterThanOrEqual(5);
  });

  it("rejects invalid filters naming them", async () => {
    const response = await api("/api/images/generated?limit=101&format=gif&aspectRatio=2:1&q=x", { key });
    const problem = await readProblem(response);
    expect(response.status).toBe(400);
    expect(problem.errors?.map((error) => error.field).sort()).toEqual(["aspectRatio", "format", "limit", "q"]);
  });
});

describe("GET /api/images/uploads", () => {
  it("lists uploads and references, or one category", async () => {
    const all = await list("", "/api/images/uploads");
    expect(all.data.map((image) => image.category)).toEqual(["references", "uploads"]);
    expect(all.data[0]).toMatchObject({ aspectRatio: "4:3", filename: "style", prompt: null });
    const references = await list("?category=references", "/api/images/uploads");
    expect(references.data.map((image) => image.category)).toEqual(["references"]);
  });

  it("shows each image's project alias and flow", async () => {
    const flowId = crypto.randomUUID();
    const form = formWith(await imageFile("png", 40, 40), "logo.png", { alias: "@listed-logo", flowId });
    const created = await api("/api/v1/images/upload", { key, form });
    const id = ((await created.json()) as ApiBody<"uploadV1Image", 201>).data.id;

    const page = await list("", "/api/images/uploads");
    expect(page.data.find((image) => image.id === id)).toMatchObject({ alias: "@listed-logo", flowId });
    expect(page.data.filter((image) => image.id !== id).map((image) => image.alias)).toEqual([null, null]);
    expect(new Set((await list("")).data.map((image) => image.alias))).toEqual(new Set([null]));
  });

  it("shows nothing of another project", async () => {
    const stranger = (await freshProjectKey()).key.key;
    const response = await api("/api/images/generated", { key: stranger });
    expect(((await response.json()) as Page).data).toEqual([]);
  });
});
