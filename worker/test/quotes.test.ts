import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { loadConfig } from "../src/config";
import { MAX_ENHANCED_PROMPT_LENGTH } from "../src/domain/enhancement";
import { costMicros, IMAGE_OUTPUT_TOKENS, type Modality, PRICE_VERSION, priceOf, type TokenCounts } from "../src/domain/pricing";
import { imageInputTokens, legendBytes, type ReferenceLabel, sentSize } from "../src/domain/references";
import { FRAMING_TOKENS, utf8Bytes } from "../src/domain/token-bounds";
import { IMAGE_CALL_TEXT_ALLOWANCE } from "../src/providers/gemini/image-model";
import { ENHANCER_MAX_OUTPUT_TOKENS } from "../src/providers/gemini/prompt-enhancer";
import { enhancePrompt } from "../src/services/enhancement";
import { quoteGeneration } from "../src/services/quotes";
import { loadReferences } from "../src/services/references";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { api, readProblem, testEnv } from "./support/app";
import { insertKey, quotaUsed, setQuotaUsed, withDb } from "./support/fixtures";
import { s3, setProjectAlias, uploadInFlow } from "./support/flows";
import { type FakeRequest, fakeRequests, freshProjectKey, GEMINI_ENV, marker, scriptFake } from "./support/generation";
import { imageFile } from "./support/images";
import { geminiModels, testStore, uploadReference } from "./support/references";

const DEFAULT_PROMPT = "кот в космосе";

/** Asks for a quote the two ways there are: POST /api/quotes, or text-to-image with dryRun. */
async function quote(key: string, body: Record<string, unknown>, env: Record<string, string> = {}) {
  const response = await api("/api/quotes", { key, body, env });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as ApiBody<"createQuote", 200>).data;
}

async function dryRun(key: string, body: Record<string, unknown>, env: Record<string, string> = {}) {
  const response = await api("/api/text-to-image", { key, body: { ...body, dryRun: true }, env });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as ApiBody<"textToImage", 200>).data;
}

const geminiImagePrice = () => {
  const price = priceOf("gemini", "gemini-2.5-flash-image");
  if (!price) throw new Error("no price for gemini-2.5-flash-image");
  return price;
};

describe("quotes: the most a generation would cost, before anything is spent", () => {
  it("bounds the default request on Gemini: enhancement at its output cap, the image on the longest enhanced prompt", async () => {
    const { key } = await freshProjectKey();
    const data = await quote(key.key, { prompt: DEFAULT_PROMPT }, GEMINI_ENV);

    expect(data).toMatchObject({
      qualifier: "estimate",
      priceVersion: PRICE_VERSION,
      provider: "gemini",
      models: { image: "gemini-2.5-flash-image", enhancement: "gemini-2.5-flash" },
    });
    // The image model may get an enhanced prompt of up to 1500 UTF-16 units, 3 UTF-8 bytes each at most.
    expect(data.breakdown.generation).toBe(
      costMicros(geminiImagePrice(), {
        input: { text: 3 * MAX_ENHANCED_PROMPT_LENGTH + FRAMING_TOKENS },
        output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
      }),
    );
    // About $0.039 for the image itself, plus the bounds of its prompt and text.
    expect(data.breakdown.generation).toBeGreaterThan(38_700);
    const textPrice = priceOf("gemini", "gemini-2.5-flash");
    if (!textPrice) throw new Error("no price for gemini-2.5-flash");
    // The text model's output cap, plus its input: the instruction, the schema and the prompt.
    const capCost = costMicros(textPrice, { input: {}, output: { text: ENHANCER_MAX_OUTPUT_TOKENS } });
    expect(data.breakdown.enhancement).toBeGreaterThan(capCost);
    expect(data.breakdown.enhancement).toBeLessThan(capCost + 2_000);
    expect(data.usdMicros).toBe(data.breakdown.enhancement + data.breakdown.generation);
  });

  it("bounds a request without enhancement by the prompt's own UTF-8 bytes, and quotes no enhancement", async () => {
    const { key } = await freshProjectKey();
    const data = await quote(key.key, { prompt: DEFAULT_PROMPT, autoEnhance: false }, GEMINI_ENV);

    expect(data.models).toEqual({ image: "gemini-2.5-flash-image", enhancement: null });
    expect(data.breakdown.enhancement).toBe(0);
    // 11 Cyrillic letters of 2 bytes and 2 spaces.
    expect(new TextEncoder().encode(DEFAULT_PROMPT).byteLength).toBe(24);
    expect(data.breakdown.generation).toBe(
      costMicros(geminiImagePrice(), {
        input: { text: 24 + FRAMING_TOKENS },
        output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
      }),
    );
    expect(data.usdMicros).toBe(data.breakdown.generation);
  });

  it("quotes the offline preview at zero, and says so", async () => {
    const { key } = await freshProjectKey();
    const data = await quote(key.key, { prompt: DEFAULT_PROMPT });

    expect(data).toEqual({
      usdMicros: 0,
      qualifier: "estimate",
      priceVersion: PRICE_VERSION,
      breakdown: { enhancement: 0, generation: 0 },
      provider: "preview",
      models: { image: "banatie-preview-1", enhancement: "banatie-templates-1" },
    });
  });

  it.each([
    ["Gemini", GEMINI_ENV],
    ["the preview", {}],
  ])("answers the same quote to dryRun and to POST /api/quotes, on %s", async (_, env) => {
    const { key } = await freshProjectKey();
    for (const body of [
      { prompt: DEFAULT_PROMPT },
      { prompt: "a red fox in snow", autoEnhance: false, aspectRatio: "16:9", outputFormat: "webp", quality: 70 },
      { prompt: "a teapot", enhancementOptions: { template: "product" } },
    ]) {
      expect(await dryRun(key.key, body, env)).toEqual(await quote(key.key, body, env));
    }
  });
});

const store = () => {
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("the test stack uses s3");
  return createS3ObjectStore(storage.s3);
};

describe("a quote changes nothing", () => {
  it("makes no generation, image, object or audit row, spends no quota, and calls no model", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    const body = { prompt: `a lighthouse in fog ${tag}` };
    const state = async () =>
      withDb(async (db) => {
        const count = async (query: ReturnType<typeof sql>) => (await db.execute<{ n: number }>(query)).rows[0]?.n;
        return {
          generations: await count(sql`select count(*)::int as n from generations where project_id = ${scope.project.id}`),
          images: await count(sql`select count(*)::int as n from images where project_id = ${scope.project.id}`),
          audit: await count(
            sql`select count(*)::int as n from audit_events where actor_key_id = ${key.id} or project_id = ${scope.project.id}`,
          ),
          objects: (await store().list({ prefix: `${scope.organization.slug}/${scope.project.slug}/` })).objects.length,
          quota: await quotaUsed(db, key.id),
        };
      });
    const before = await state();

    await quote(key.key, body, GEMINI_ENV);
    await dryRun(key.key, body, GEMINI_ENV);
    await quote(key.key, { ...body, autoEnhance: false }, GEMINI_ENV);

    expect(await state()).toEqual(before);
    expect(before).toEqual({ generations: 0, images: 0, audit: 0, objects: 0, quota: 0 });
    expect(await fakeRequests(tag)).toEqual([]);

    // The first generation after the quotes is the first request the hour's quota counts.
    const generated = await api("/api/text-to-image", { key: key.key, body: { ...body, autoEnhance: false }, env: GEMINI_ENV });
    expect(generated.status).toBe(201);
    await generated.body?.cancel();
    expect(generated.headers.get("x-ratelimit-limit")).toBe("100");
    expect(generated.headers.get("x-ratelimit-remaining")).toBe("99");
  });

  it("answers a key whose hourly quota is used up, without spending or refusing", async () => {
    const { key } = await freshProjectKey();
    await withDb((db) => setQuotaUsed(db, key.id, 100));
    const refused = await api("/api/text-to-image", { key: key.key, body: { prompt: "a cat" } });
    expect(refused.status).toBe(429);
    await refused.body?.cancel();

    expect((await quote(key.key, { prompt: "a cat" })).usdMicros).toBe(0);
    expect((await dryRun(key.key, { prompt: "a cat" })).usdMicros).toBe(0);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(2 * 100 + 1);
  });
});

describe("a quote is validated and authorized as the generation would be", () => {
  it.each([
    ["an empty prompt", { prompt: "" }, "prompt"],
    ["a prompt over 5000 characters", { prompt: "x".repeat(5001) }, "prompt"],
    ["an unknown aspect ratio", { prompt: "a cat", aspectRatio: "7:7" }, "aspectRatio"],
    ["a quality for png", { prompt: "a cat", quality: 80 }, "quality"],
    ["an unknown template", { prompt: "a cat", enhancementOptions: { template: "baroque" } }, "enhancementOptions.template"],
    ["a dryRun that is not a boolean", { prompt: "a cat", dryRun: "yes" }, "dryRun"],
  ])("refuses %s with 400 naming the field, the same problem as text-to-image", async (_, body, field) => {
    const { key } = await freshProjectKey();
    const problems = [];
    for (const request of [
      api("/api/quotes", { key: key.key, body }),
      api("/api/text-to-image", { key: key.key, body: { dryRun: true, ...body } }),
      api("/api/text-to-image", { key: key.key, body }),
    ]) {
      const response = await request;
      expect(response.status).toBe(400);
      const { code, errors } = await readProblem(response);
      problems.push({ code, errors });
    }
    expect(problems[0]?.code).toBe("VALIDATION_ERROR");
    expect(problems[0]?.errors?.map((error) => error.field)).toContain(field);
    expect(problems[1]).toEqual(problems[0]);
    expect(problems[2]).toEqual(problems[0]);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });

  it("refuses a master key with 403, as text-to-image does", async () => {
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    for (const [path, body] of [
      ["/api/quotes", { prompt: "a cat" }],
      ["/api/text-to-image", { prompt: "a cat", dryRun: true }],
      ["/api/text-to-image", { prompt: "a cat" }],
    ] as const) {
      const response = await api(path, { key: master.key, body });
      expect(response.status).toBe(403);
      expect((await readProblem(response)).code).toBe("INSUFFICIENT_SCOPE");
    }
  });

  it("refuses a request without a key with 401", async () => {
    const response = await api("/api/quotes", { body: { prompt: "a cat" } });
    expect(response.status).toBe(401);
    expect((await readProblem(response)).code).toBe("MISSING_API_KEY");
  });
});

/** What the Gemini-protocol fake reports a call used, as the real API does in `usageMetadata`. */
interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  promptTokensDetails?: { modality: string; tokenCount: number }[];
  candidatesTokensDetails?: { modality: string; tokenCount: number }[];
}

const modality = (name: string): Modality => (name.toUpperCase() === "IMAGE" ? "image" : "text");

/**
 * The tokens of a call by direction and modality: from the details when the fake gives them,
 * otherwise the prompt as text and the candidates in the modality the call asked for.
 */
function tokensOf(usage: UsageMetadata, wantsImage: boolean): TokenCounts {
  const tokens: TokenCounts = { input: {}, output: {} };
  const add = (direction: "input" | "output", name: Modality, count: number) => {
    tokens[direction][name] = (tokens[direction][name] ?? 0) + count;
  };
  if (usage.promptTokensDetails)
    for (const entry of usage.promptTokensDetails) add("input", modality(entry.modality), entry.tokenCount);
  else add("input", "text", usage.promptTokenCount ?? 0);
  if (usage.candidatesTokensDetails) {
    for (const entry of usage.candidatesTokensDetails) add("output", modality(entry.modality), entry.tokenCount);
  } else add("output", wantsImage ? "image" : "text", usage.candidatesTokenCount ?? 0);
  add("output", "text", usage.thoughtsTokenCount ?? 0);
  return tokens;
}

async function costOfCalls(calls: FakeRequest[]) {
  const costs = { enhancement: 0, generation: 0 };
  for (const call of calls) {
    const wantsImage = call.body.generationConfig?.responseModalities?.includes("IMAGE") ?? false;
    const price = priceOf("gemini", call.model);
    if (!price) throw new Error(`no price for ${call.model}`);
    // Recorded with the call; none for a call answered with an error, which Google does not bill.
    const usage = call.usageMetadata;
    if (usage) costs[wantsImage ? "generation" : "enhancement"] += costMicros(price, tokensOf(usage, wantsImage));
  }
  return costs;
}

describe("the bound holds against what the model then reports", () => {
  it.each([
    ["an enhanced prompt", (tag: string) => ({ prompt: `кот на крыше ${tag}` }), "enhance"],
    ["a failed enhancement", (tag: string) => ({ prompt: `a blue whale ${tag}` }), "fail"],
    [
      "a long prompt without enhancement",
      (tag: string) => ({ prompt: `${"дом у моря ".repeat(400)}${tag}`, autoEnhance: false }),
      "none",
    ],
  ] as const)("is never below the cost of %s", async (_, bodyFor, enhancer) => {
    const { key } = await freshProjectKey();
    const tag = marker();
    if (enhancer === "enhance") {
      await scriptFake({
        marker: tag,
        model: "gemini-2.5-flash",
        text: JSON.stringify({
          // Longer than the cap, so the image model gets the longest prompt enhancement can give.
          enhancedPrompt: `${tag} ${"A fluffy ginger cat on a tin roof at golden hour, ".repeat(40)}`,
          detectedLanguage: "ru",
          translated: true,
          improvements: ["lighting"],
        }),
      });
    }
    if (enhancer === "fail") await scriptFake({ marker: tag, model: "gemini-2.5-flash", status: 400 });
    const body = bodyFor(tag);
    const quoted = await quote(key.key, body, GEMINI_ENV);

    const response = await api("/api/text-to-image", { key: key.key, body, env: GEMINI_ENV });
    expect(response.status, await response.clone().text()).toBe(201);
    await response.body?.cancel();
    const calls = await fakeRequests(tag);
    expect(calls.map((call) => call.model).sort()).toEqual(
      enhancer === "none" ? ["gemini-2.5-flash-image"] : ["gemini-2.5-flash", "gemini-2.5-flash-image"],
    );
    const spent = await costOfCalls(calls);

    expect(spent.generation).toBeGreaterThan(0);
    expect(quoted.breakdown.generation).toBeGreaterThanOrEqual(spent.generation);
    expect(quoted.breakdown.enhancement).toBeGreaterThanOrEqual(spent.enhancement);
    expect(quoted.usdMicros).toBeGreaterThanOrEqual(spent.enhancement + spent.generation);
  });
});

describe("quotes with reference images", () => {
  it("counts each reference by Google's tiles at the size it is sent at", () => {
    expect(imageInputTokens({ width: 384, height: 384 })).toBe(258);
    expect(imageInputTokens({ width: 385, height: 100 })).toBe(258);
    expect(imageInputTokens({ width: 769, height: 768 })).toBe(2 * 258);
    expect(imageInputTokens({ width: 1536, height: 1536 })).toBe(4 * 258);
    // Larger references are sent fitted within 1536 px: at most 4 tiles each.
    expect(sentSize({ width: 4096, height: 2048 })).toEqual({ width: 1536, height: 768 });
    expect(imageInputTokens(sentSize({ width: 4096, height: 4096 }))).toBe(4 * 258);

    const references = [
      { width: 4096, height: 2048, label: "@hero" },
      { width: 300, height: 200, label: null },
      { width: 1000, height: 1000, label: "@logo" },
    ];
    const prompt = "put the logo on the hero's shirt";
    const quote = quoteGeneration(geminiModels(), { prompt, autoEnhance: false, template: "general", references });
    expect(quote.breakdown.generation).toBe(
      costMicros(geminiImagePrice(), {
        input: { text: utf8Bytes(prompt) + legendBytes(references) + FRAMING_TOKENS, image: (2 + 1 + 4) * 258 },
        output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
      }),
    );
    const without = quoteGeneration(geminiModels(), { prompt, autoEnhance: true, template: "general" });
    const withReferences = quoteGeneration(geminiModels(), { prompt, autoEnhance: true, template: "general", references });
    // The enhancer is told about them too: a longer request.
    expect(withReferences.breakdown.enhancement).toBeGreaterThan(without.breakdown.enhancement);
  });

  it.each([
    ["without enhancement", false],
    ["with enhancement", true],
  ])("is never below what the fake bills for three references, %s", async (_, autoEnhance) => {
    const { scope, key } = await freshProjectKey();
    const stored = [
      await uploadReference(key.key, await imageFile("png", 2000, 1000), "wide.png", "@wide"),
      await uploadReference(key.key, await imageFile("jpeg", 800, 800), "square.jpg", null),
      await uploadReference(key.key, await imageFile("webp", 200, 300), "small.webp", "@small"),
    ];
    const labels: ReferenceLabel[] = stored.map(({ alias }) => ({ label: alias }));
    const tag = marker();
    // Without enhancement a short prompt, so the references' tokens are most of the call.
    const prompt = autoEnhance ? `${"ставь логотип на рубашку ".repeat(20)}${tag}` : `logo on the shirt ${tag}`;
    if (autoEnhance) {
      await scriptFake({
        marker: tag,
        model: "gemini-2.5-flash",
        text: JSON.stringify({
          enhancedPrompt: `${tag} ${"The logo from image 3 on the shirt of @wide, ".repeat(40)}`,
          detectedLanguage: "ru",
          translated: true,
          improvements: [],
        }),
      });
    }
    const models = geminiModels();
    const quoted = quoteGeneration(models, {
      prompt,
      autoEnhance,
      template: "general",
      references: stored.map(({ image, alias }) => ({ width: image.width, height: image.height, label: alias })),
    });

    const finalPrompt = autoEnhance
      ? (
          await withDb((db) =>
            enhancePrompt({ db, enhancer: models.enhancer, defer: () => {} }, scope.project.id, prompt, "general", null, labels),
          )
        ).enhancedPrompt
      : prompt;
    const references = await loadReferences({ store: testStore() }, stored);
    await models.imageModel.generate({ prompt: finalPrompt, aspectRatio: "1:1", references });

    const calls = await fakeRequests(tag);
    expect(calls).toHaveLength(autoEnhance ? 2 : 1);
    const imageCall = calls.find((call) => call.model === "gemini-2.5-flash-image");
    // 2000x1000 is sent as 1536x768 (2 tiles), 800x800 as 4 tiles, 200x300 as 1.
    expect(imageCall?.usageMetadata?.promptTokensDetails).toContainEqual({ modality: "IMAGE", tokenCount: 7 * 258 });
    const spent = await costOfCalls(calls);
    expect(spent.generation).toBeGreaterThan(0);
    expect(quoted.breakdown.generation).toBeGreaterThanOrEqual(spent.generation);
    expect(quoted.breakdown.enhancement).toBeGreaterThanOrEqual(spent.enhancement);
    expect(quoted.usdMicros).toBeGreaterThanOrEqual(spent.enhancement + spent.generation);
  });
});

/** POST /api/quotes for this body, its status checked; the quote and the raw response. */
async function quoteResponse(key: string, body: Record<string, unknown>) {
  const response = await api("/api/quotes", { key, body, env: GEMINI_ENV });
  return {
    response,
    data: response.status === 200 ? ((await response.clone().json()) as ApiBody<"createQuote", 200>).data : null,
  };
}

describe("POST /api/quotes with referenceImages: the v1 create's references, counted before anything is spent", () => {
  const prompt = "put the logo on the shirt";
  /** The image model's bound for a prompt without enhancement, with these references' tiles and legend. */
  const boundWith = (references: { label: string | null; tiles: number }[], text = prompt) =>
    costMicros(geminiImagePrice(), {
      input: {
        text: utf8Bytes(text) + legendBytes(references) + FRAMING_TOKENS,
        ...(references.length > 0 ? { image: references.reduce((sum, { tiles }) => sum + tiles * 258, 0) } : {}),
      },
      output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
    });

  it("adds each reference's tiles at the image input price, and its name in the legend, for 1 and for 3 references", async () => {
    const { key } = await freshProjectKey();
    const wide = await uploadInFlow(key.key, null, { width: 2000, height: 1000 });
    const square = await uploadInFlow(key.key, null, { format: "jpeg", width: 800, height: 800, name: "square.jpg" });
    const small = await uploadInFlow(key.key, null, { format: "webp", width: 200, height: 300, name: "small.webp" });
    const body = { prompt, autoEnhance: false };

    const without = await quote(key.key, body, GEMINI_ENV);
    const one = await quote(key.key, { ...body, referenceImages: [wide.id] }, GEMINI_ENV);
    const three = await quote(key.key, { ...body, referenceImages: [wide.id, square.id, small.id] }, GEMINI_ENV);

    expect(without.breakdown.generation).toBe(boundWith([]));
    // 2000x1000 is sent as 1536x768: 2 tiles; 800x800: 4 tiles; 200x300: 1 tile.
    const price = geminiImagePrice().input.image;
    const imageLine = (tiles: number) => Math.ceil((tiles * 258 * price) / 1_000_000);
    const legendLine = (count: number) =>
      boundWith(Array.from({ length: count }, () => ({ label: null, tiles: 0 }))) - without.breakdown.generation;
    expect(one.breakdown.generation - without.breakdown.generation).toBe(imageLine(2) + legendLine(1));
    expect(three.breakdown.generation - without.breakdown.generation).toBe(imageLine(2 + 4 + 1) + legendLine(3));
    expect(three.breakdown.generation).toBe(
      boundWith([
        { label: null, tiles: 2 },
        { label: null, tiles: 4 },
        { label: null, tiles: 1 },
      ]),
    );
    expect(imageLine(7)).toBeGreaterThan(0);
    expect(three.usdMicros).toBeGreaterThan(one.usdMicros);
    expect(one.usdMicros).toBeGreaterThan(without.usdMicros);
  });

  it("counts the prompt's @aliases that resolve, and @upload in the flow given, as the v1 create does", async () => {
    const { scope, key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const hero = await uploadInFlow(key.key, flowId, { width: 1000, height: 1000 });
    await setProjectAlias(scope.project.id, hero.id, "@hero");
    // The prompt's @hero is a reference; named explicitly too, it is counted once.
    const named = await quote(key.key, { prompt: `${prompt} of @hero`, autoEnhance: false }, GEMINI_ENV);
    const explicit = await quote(
      key.key,
      { prompt: `${prompt} of @hero`, autoEnhance: false, referenceImages: ["@hero"] },
      GEMINI_ENV,
    );
    expect(named.breakdown.generation).toBe(boundWith([{ label: "@hero", tiles: 4 }], `${prompt} of @hero`));
    expect(explicit).toEqual(named);
    // An @word that names no image is not a reference.
    const unknown = await quote(key.key, { prompt: `${prompt} of @nobody`, autoEnhance: false }, GEMINI_ENV);
    expect(unknown.breakdown.generation).toBe(boundWith([], `${prompt} of @nobody`));

    // @upload is the flow's newest upload: only within the flow given.
    const upload = await quote(key.key, { prompt, autoEnhance: false, referenceImages: ["@upload"], flowId }, GEMINI_ENV);
    expect(upload.breakdown.generation).toBe(boundWith([{ label: "@upload", tiles: 4 }]));
    const { response } = await quoteResponse(key.key, { prompt, referenceImages: ["@upload"] });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe("IMAGE_NOT_FOUND");
  });

  it.each([
    ["without enhancement", false],
    ["with enhancement", true],
  ])("is the bound the v1 create reserves for the same request, and what it bills is no more, %s", async (_, autoEnhance) => {
    const { key } = await freshProjectKey();
    const wide = await uploadInFlow(key.key, null, { width: 2000, height: 1000 });
    const small = await uploadInFlow(key.key, null, { format: "webp", width: 200, height: 300, name: "small.webp" });
    const tag = marker();
    const body = { prompt: `${prompt} ${tag}`, autoEnhance, referenceImages: [wide.id, small.id] };
    const quoted = await quote(key.key, body, GEMINI_ENV);
    await api(`/api/admin/keys/${key.id}`, {
      method: "PATCH",
      key: (await withDb((db) => insertKey(db, { type: "master" }))).key,
      body: { monthlyBudgetUsd: 10 },
    }).then((response) => response.body?.cancel());

    const response = await api("/api/v1/generations", { key: key.key, body, env: GEMINI_ENV });
    expect(response.status, await response.clone().text()).toBe(201);
    // What is left once the create's reservation is held: the budget less exactly the quote.
    expect(response.headers.get("x-budget-remaining-usd")).toBe(((10_000_000 - quoted.usdMicros) / 1_000_000).toFixed(6));
    // What it was billed, the model's reported usage priced: never more than the quote.
    const created = ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
    expect(created.referencedImages).toHaveLength(2);
    expect(created.cost.breakdown.generation).toBeGreaterThan(0);
    expect(created.cost.usdMicros).toBeLessThanOrEqual(quoted.usdMicros);
    expect(created.cost.breakdown.generation).toBeLessThanOrEqual(quoted.breakdown.generation);
    expect(created.cost.breakdown.enhancement).toBeLessThanOrEqual(quoted.breakdown.enhancement);
  });

  it.each([
    ["a reference that is neither an id nor an @alias", { referenceImages: ["hero"] }, 400, "ALIAS_FORMAT_CHECK"],
    ["4 references", { referenceImages: ["@a", "@b", "@c", "@d"] }, 400, "TOO_MANY_REFERENCES"],
    ["a flowId that is not a UUID", { flowId: "flow-1" }, 400, "VALIDATION_ERROR"],
    ["an image id no project has", { referenceImages: [crypto.randomUUID()] }, 404, "IMAGE_NOT_FOUND"],
  ])("refuses %s as the v1 create does, and spends nothing", async (_, extra, status, code) => {
    const { key } = await freshProjectKey();
    const body = { prompt, ...extra };
    const quoted = await quoteResponse(key.key, body);
    expect(quoted.response.status).toBe(status);
    const problem = await readProblem(quoted.response);
    expect(problem.code).toBe(code);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);

    const createdResponse = await api("/api/v1/generations", { key: key.key, body, env: GEMINI_ENV });
    expect(createdResponse.status).toBe(status);
    const createProblem = await readProblem(createdResponse);
    expect({ code: problem.code, errors: problem.errors }).toEqual({ code: createProblem.code, errors: createProblem.errors });
  });

  it("never counts another project's image: 404 IMAGE_NOT_FOUND, naming the reference", async () => {
    const other = await freshProjectKey();
    const foreign = await uploadInFlow(other.key.key, null);
    await setProjectAlias(other.scope.project.id, foreign.id, "@theirs");
    const { key } = await freshProjectKey();
    for (const reference of [foreign.id, "@theirs"]) {
      const { response } = await quoteResponse(key.key, { prompt, referenceImages: [reference] });
      expect(response.status).toBe(404);
      const problem = await readProblem(response);
      expect(problem.code).toBe("IMAGE_NOT_FOUND");
      expect(problem.errors?.map((error) => error.field)).toEqual(["referenceImages.0"]);
    }
    // The prompt's @theirs is not this project's alias: not counted, not refused.
    const named = await quote(key.key, { prompt: `${prompt} @theirs`, autoEnhance: false }, GEMINI_ENV);
    expect(named.breakdown.generation).toBe(
      costMicros(geminiImagePrice(), {
        input: { text: utf8Bytes(`${prompt} @theirs`) + FRAMING_TOKENS },
        output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
      }),
    );
  });

  it("refuses a prompt whose @aliases bring the references over 3, as the v1 create does", async () => {
    const { scope, key } = await freshProjectKey();
    for (const alias of ["@a", "@b", "@c", "@d"]) {
      const image = await uploadInFlow(key.key, null);
      await setProjectAlias(scope.project.id, image.id, alias);
    }
    const { response } = await quoteResponse(key.key, { prompt: "@a with @b and @c and @d" });
    expect(response.status).toBe(400);
    expect((await readProblem(response)).code).toBe("TOO_MANY_REFERENCES");
  });

  it("reads no image and spends no quota: the references' sizes come from their rows", async () => {
    const { key } = await freshProjectKey();
    const image = await uploadInFlow(key.key, null, { width: 1000, height: 1000 });
    const used = await withDb((db) => quotaUsed(db, key.id));
    // Its object is gone: a quote does not notice, a generation would.
    await s3().delete(image.storageKey);
    const quoted = await quote(key.key, { prompt, autoEnhance: false, referenceImages: [image.id] }, GEMINI_ENV);
    expect(quoted.breakdown.generation).toBe(boundWith([{ label: null, tiles: 4 }]));
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(used);
  });
});
