import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { costMicros, PRICE_VERSION, priceOf, type TokenCounts } from "../src/domain/pricing";
import { PREVIEW_MODEL } from "../src/providers/preview/image-model";
import { TEMPLATE_ENHANCER_MODEL } from "../src/providers/preview/template-enhancer";
import { api, readProblem } from "./support/app";
import { withDb } from "./support/fixtures";
import { freshProjectKey, GEMINI_ENV, marker, scriptFake } from "./support/generation";

/**
 * Every model call is recorded in `usage_events` with its tokens by modality and its cost, with
 * the outcome of its generation: what the Gemini-protocol fake reported in `usageMetadata` is
 * what is recorded, and what a response says it cost is what was recorded as billable.
 */

type UsageRow = {
  organization_id: string;
  project_id: string;
  api_key_id: string;
  generation_id: string | null;
  kind: string;
  provider: string;
  model: string;
  input_text_tokens: number;
  input_image_tokens: number;
  output_text_tokens: number;
  output_image_tokens: number;
  cost_usd_micros: number;
  price_version: string;
  billable: boolean;
};

/** The fake counts about four characters a token, as Gemini roughly does. */
const textTokens = (text: string) => Math.ceil(text.length / 4);

async function usageOfKey(keyId: string): Promise<UsageRow[]> {
  return withDb(async (db) => {
    // bigint arrives as a string: read as the number it is.
    const result = await db.execute<Omit<UsageRow, "cost_usd_micros"> & { cost_usd_micros: string }>(
      sql`select * from usage_events where api_key_id = ${keyId} order by kind desc, created_at, id`,
    );
    return result.rows.map((row) => ({ ...row, cost_usd_micros: Number(row.cost_usd_micros) }));
  });
}

function expectedCost(model: string, tokens: TokenCounts): number {
  const price = priceOf("gemini", model);
  if (!price) throw new Error(`no price for ${model}`);
  return costMicros(price, tokens);
}

/** Makes the fake text model answer prompts containing `tag` with this enhanced prompt; returns its answer. */
async function scriptEnhancement(tag: string, enhancedPrompt: string): Promise<string> {
  const text = JSON.stringify({ enhancedPrompt, detectedLanguage: "en", translated: false, improvements: ["detail"] });
  await scriptFake({ marker: tag, model: "gemini-2.5-flash", text });
  return text;
}

async function generate(key: string, body: Record<string, unknown>, env: Record<string, unknown> = GEMINI_ENV) {
  return api("/api/text-to-image", { key, body, env });
}

describe("usage of a Gemini generation", () => {
  it("records the image call and the enhancer call, by modality, priced, and charges what it recorded", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    const prompt = `a lighthouse in fog ${tag}`;
    // The image model's answer carries this text beside the image (the fake's reply directive).
    const said = "Here is your lighthouse in the fog.";
    const enhancedPrompt = `A lighthouse on a rocky coast in thick fog, soft light ${tag} [fake:reply=${said}]`;
    const answer = await scriptEnhancement(tag, enhancedPrompt);

    const response = await generate(key.key, { prompt });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as ApiBody<"textToImage", 201>;

    const imageTokens = { input: { text: textTokens(enhancedPrompt) }, output: { text: textTokens(said), image: 1290 } };
    const enhancerTokens = {
      input: { text: textTokens(JSON.stringify({ prompt, template: "general" })) },
      output: { text: textTokens(answer) },
    };
    const imageCost = expectedCost("gemini-2.5-flash-image", imageTokens);
    const enhancerCost = expectedCost("gemini-2.5-flash", enhancerTokens);
    // 1290 image tokens at $30 per 1M are 38,700 micros; the prompt and the text add a little.
    expect(imageCost).toBeGreaterThan(38_700);
    expect(imageCost).toBeLessThan(38_800);

    const owner = { organization_id: scope.organization.id, project_id: scope.project.id, api_key_id: key.id };
    expect(await usageOfKey(key.id)).toEqual([
      {
        ...owner,
        id: expect.any(String),
        created_at: expect.anything(),
        generation_id: data.generationId,
        kind: "generation",
        provider: "gemini",
        model: "gemini-2.5-flash-image",
        input_text_tokens: imageTokens.input.text,
        input_image_tokens: 0,
        output_text_tokens: imageTokens.output.text,
        output_image_tokens: 1290,
        cost_usd_micros: imageCost,
        price_version: PRICE_VERSION,
        billable: true,
      },
      {
        ...owner,
        id: expect.any(String),
        created_at: expect.anything(),
        generation_id: data.generationId,
        kind: "enhancement",
        provider: "gemini",
        model: "gemini-2.5-flash",
        input_text_tokens: enhancerTokens.input.text,
        input_image_tokens: 0,
        output_text_tokens: enhancerTokens.output.text,
        output_image_tokens: 0,
        cost_usd_micros: enhancerCost,
        price_version: PRICE_VERSION,
        billable: true,
      },
    ]);
    expect(data.cost).toEqual({
      usdMicros: imageCost + enhancerCost,
      priceVersion: PRICE_VERSION,
      breakdown: { enhancement: enhancerCost, generation: imageCost },
    });
  });

  it("records no text-model call for a prompt-cache hit, and charges nothing for the enhancement", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const prompt = `a harbour at dawn ${tag}`;
    await scriptEnhancement(tag, `A quiet harbour at dawn, boats and mist ${tag}`);

    expect((await generate(key.key, { prompt })).status).toBe(201);
    const second = await generate(key.key, { prompt });
    expect(second.status).toBe(201);
    const { data } = (await second.json()) as ApiBody<"textToImage", 201>;

    expect(data.enhancement).toMatchObject({ applied: true, cached: true });
    const events = await usageOfKey(key.id);
    expect(events.map((event) => [event.kind, event.generation_id === data.generationId])).toEqual([
      ["generation", false],
      ["generation", true],
      ["enhancement", false],
    ]);
    const imageEvent = events.find((event) => event.generation_id === data.generationId);
    expect(data.cost).toEqual({
      usdMicros: imageEvent?.cost_usd_micros,
      priceVersion: PRICE_VERSION,
      breakdown: { enhancement: 0, generation: imageEvent?.cost_usd_micros },
    });
  });
});

describe("usage of a generation that fails", () => {
  it("records a refusal the provider charged for at its cost, not billable, and the 422 charges nothing", async () => {
    const { key } = await freshProjectKey();
    const prompt = `a tree ${marker()} [fake:block=SAFETY]`;
    const response = await generate(key.key, { prompt, autoEnhance: false });

    expect(response.status).toBe(422);
    const problem = await readProblem(response);
    expect(problem.code).toBe("CONTENT_BLOCKED");
    expect(problem).not.toHaveProperty("cost");
    const [generation] = await withDb(
      async (db) => (await db.execute<{ id: string }>(sql`select id from generations where api_key_id = ${key.id}`)).rows,
    );
    const tokens = { input: { text: textTokens(prompt) }, output: {} };
    expect(await usageOfKey(key.id)).toEqual([
      expect.objectContaining({
        generation_id: generation?.id,
        kind: "generation",
        model: "gemini-2.5-flash-image",
        input_text_tokens: textTokens(prompt),
        output_image_tokens: 0,
        cost_usd_micros: expectedCost("gemini-2.5-flash-image", tokens),
        billable: false,
      }),
    ]);
    expect(expectedCost("gemini-2.5-flash-image", tokens)).toBeGreaterThan(0);
  });

  it("records an answer with no image at the cost of its text, not billable", async () => {
    const { key } = await freshProjectKey();
    const said = "I cannot draw that.";
    const prompt = `a tree ${marker()} [fake:text-only] [fake:reply=${said}]`;
    const response = await generate(key.key, { prompt, autoEnhance: false });

    expect(response.status).toBe(422);
    expect((await readProblem(response)).code).toBe("NO_IMAGE");
    const tokens = { input: { text: textTokens(prompt) }, output: { text: textTokens(said) } };
    expect(await usageOfKey(key.id)).toEqual([
      expect.objectContaining({
        kind: "generation",
        input_text_tokens: tokens.input.text,
        output_text_tokens: tokens.output.text,
        output_image_tokens: 0,
        cost_usd_micros: expectedCost("gemini-2.5-flash-image", tokens),
        billable: false,
      }),
    ]);
  });

  it("records nothing for a call that failed without an answer", async () => {
    const { key } = await freshProjectKey();
    const response = await generate(key.key, { prompt: `a tree ${marker()} [fake:status=503]`, autoEnhance: false });

    expect(response.status).toBe(502);
    await response.body?.cancel();
    expect(await usageOfKey(key.id)).toEqual([]);
  });

  it("keeps the enhancer's call of a failed generation, not billable", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptEnhancement(tag, `A tree in a storm ${tag} [fake:block=SAFETY]`);
    const response = await generate(key.key, { prompt: `a tree ${tag}` });

    expect(response.status).toBe(422);
    await response.body?.cancel();
    const events = await usageOfKey(key.id);
    expect(events.map((event) => [event.kind, event.billable, event.cost_usd_micros > 0])).toEqual([
      ["generation", false, true],
      ["enhancement", false, true],
    ]);
  });

  it("keeps an enhancer answer that could not be used, not billable, while the image made from the original prompt is", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptFake({ marker: tag, model: "gemini-2.5-flash", text: "Sure! Here is a better prompt." });
    const response = await generate(key.key, { prompt: `a tree ${tag}` });

    expect(response.status).toBe(201);
    const { data } = (await response.json()) as ApiBody<"textToImage", 201>;
    expect(data.enhancement).toMatchObject({ applied: false });
    const events = await usageOfKey(key.id);
    expect(events.map((event) => [event.kind, event.billable])).toEqual([
      ["generation", true],
      ["enhancement", false],
    ]);
    expect(events[1]?.cost_usd_micros).toBeGreaterThan(0);
    expect(data.cost).toEqual({
      usdMicros: events[0]?.cost_usd_micros,
      priceVersion: PRICE_VERSION,
      breakdown: { enhancement: 0, generation: events[0]?.cost_usd_micros },
    });
  });

  it("writes the generation's outcome and its usage together: when the usage cannot be written, the generation is not succeeded", async () => {
    const { scope, key } = await freshProjectKey();
    // A trigger of this test's own refuses this project's usage rows, as a failing write would.
    const name = `refuse_usage_${scope.project.id.replaceAll("-", "")}`;
    await withDb(async (db) => {
      await db.execute(
        sql.raw(`create function ${name}() returns trigger language plpgsql as $$
          begin
            if new.project_id = '${scope.project.id}' then raise exception 'usage refused'; end if;
            return new;
          end $$`),
      );
      await db.execute(sql.raw(`create trigger ${name} before insert on usage_events for each row execute function ${name}()`));
    });
    try {
      const response = await generate(key.key, { prompt: `a tree ${marker()}`, autoEnhance: false });
      expect(response.status).toBe(500);
      await response.body?.cancel();

      const rows = await withDb(async (db) => ({
        generations: (await db.execute(sql`select status from generations where api_key_id = ${key.id}`)).rows,
        images: (await db.execute(sql`select id from images where project_id = ${scope.project.id}`)).rows,
      }));
      expect(rows.generations).not.toContainEqual({ status: "succeeded" });
      expect(rows.generations).toHaveLength(1);
      expect(rows.images).toEqual([]);
      expect(await usageOfKey(key.id)).toEqual([]);
    } finally {
      await withDb(async (db) => {
        await db.execute(sql.raw(`drop trigger ${name} on usage_events`));
        await db.execute(sql.raw(`drop function ${name}()`));
      });
    }
  });
});

describe("usage of the offline stand-ins and of enhancements on their own", () => {
  it("records the preview image and the template enhancement at cost 0, so usage still counts them", async () => {
    const { key } = await freshProjectKey();
    const response = await generate(key.key, { prompt: "a red bicycle" }, {});
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as ApiBody<"textToImage", 201>;

    expect(data.cost).toEqual({ usdMicros: 0, priceVersion: PRICE_VERSION, breakdown: { enhancement: 0, generation: 0 } });
    const events = await usageOfKey(key.id);
    expect(
      events.map(({ kind, provider, model, cost_usd_micros, billable, generation_id }) => ({
        kind,
        provider,
        model,
        cost_usd_micros,
        billable,
        generation_id,
      })),
    ).toEqual([
      {
        kind: "generation",
        provider: "preview",
        model: PREVIEW_MODEL,
        cost_usd_micros: 0,
        billable: true,
        generation_id: data.generationId,
      },
      {
        kind: "enhancement",
        provider: "preview",
        model: TEMPLATE_ENHANCER_MODEL,
        cost_usd_micros: 0,
        billable: true,
        generation_id: data.generationId,
      },
    ]);
  });

  it("records POST /api/enhance's text-model call with no generation, and nothing for a cache hit", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    const prompt = `a fox in snow ${tag}`;
    const answer = await scriptEnhancement(tag, `A red fox in deep snow ${tag}`);
    const enhance = () => api("/api/enhance", { key: key.key, body: { prompt }, env: GEMINI_ENV });

    const first = await enhance();
    expect(first.status).toBe(200);
    await first.body?.cancel();
    const tokens = {
      input: { text: textTokens(JSON.stringify({ prompt, template: "general" })) },
      output: { text: textTokens(answer) },
    };
    const expected = [
      expect.objectContaining({
        organization_id: scope.organization.id,
        project_id: scope.project.id,
        generation_id: null,
        kind: "enhancement",
        provider: "gemini",
        model: "gemini-2.5-flash",
        input_text_tokens: tokens.input.text,
        output_text_tokens: tokens.output.text,
        cost_usd_micros: expectedCost("gemini-2.5-flash", tokens),
        price_version: PRICE_VERSION,
        billable: true,
      }),
    ];
    expect(await usageOfKey(key.id)).toEqual(expected);

    const again = await enhance();
    expect(((await again.json()) as ApiBody<"enhancePrompt", 200>).data.cached).toBe(true);
    expect(await usageOfKey(key.id)).toEqual(expected);
  });
});
