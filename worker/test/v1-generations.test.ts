import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { generationReferences, images } from "../src/db/schema";
import { aliasWriteStatements } from "../src/services/aliases";
import { api, readProblem } from "./support/app";
import { insertKey, quotaUsed, withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker, scriptFake } from "./support/generation";
import { imageFile } from "./support/images";
import { uploadReference } from "./support/references";

type V1Generation = ApiBody<"createGenerationV1", 201>["data"];

async function createV1(key: string, body: Record<string, unknown>, env: Record<string, unknown> = {}) {
  const response = await api("/api/v1/generations", { key, body, env });
  const data = response.status === 201 ? ((await response.clone().json()) as ApiBody<"createGenerationV1", 201>).data : null;
  return { response, data };
}

async function created(key: string, body: Record<string, unknown>, env: Record<string, unknown> = {}): Promise<V1Generation> {
  const { response, data } = await createV1(key, body, env);
  expect(response.status, await response.clone().text()).toBe(201);
  return data as V1Generation;
}

/** Gives an image a project alias, as any alias write does. */
async function giveAlias(projectId: string, imageId: string, alias: string) {
  await withDb(async (db) => {
    const [first, ...rest] = aliasWriteStatements(db, { projectId, imageId, alias }).statements as [
      BatchItem<"pg">,
      ...BatchItem<"pg">[],
    ];
    await db.batch([first, ...rest]);
  });
}

/** The parts of the one image-model call whose prompt holds `tag`. */
async function imageCallParts(tag: string) {
  const calls = (await fakeRequests(tag)).filter((call) => call.model === "gemini-2.5-flash-image");
  expect(calls).toHaveLength(1);
  return calls[0]?.body.contents.flatMap((content) => content.parts) ?? [];
}

describe("POST /api/v1/generations: references reach the model", () => {
  it("sends ['@hero', id] as two inline images in that order, with their MIME types, then the prompt", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("png", 64, 48), "hero.png");
    const logo = await uploadReference(key.key, await imageFile("jpeg", 40, 40), "logo.jpg");
    await giveAlias(scope.project.id, hero.image.id, "@hero");
    const tag = marker();

    const generation = await created(
      key.key,
      { prompt: `put the logo on the hero's shirt ${tag}`, referenceImages: ["@hero", logo.image.id], autoEnhance: false },
      GEMINI_ENV,
    );

    const parts = await imageCallParts(tag);
    expect(parts).toHaveLength(3);
    expect(parts.slice(0, 2).map((part) => [part.inlineData?.mimeType, part.inlineData?.sha256])).toEqual([
      ["image/png", hero.image.sha256],
      ["image/jpeg", logo.image.sha256],
    ]);
    expect(parts[2]?.text).toBe(
      `Reference images above, in order: image 1 = @hero, image 2 = an image without an alias.\nput the logo on the hero's shirt ${tag}`,
    );
    expect(generation).toMatchObject({
      projectId: scope.project.id,
      status: "success",
      prompt: `put the logo on the hero's shirt ${tag}`,
      originalPrompt: null,
      autoEnhance: false,
      aspectRatio: "4:3",
      referencedImages: [
        { imageId: hero.image.id, alias: "@hero" },
        { imageId: logo.image.id, alias: null },
      ],
      retryCount: 0,
      errorMessage: null,
      meta: {},
    });
    expect(generation.outputImage?.id).toBe(generation.outputImageId);
    expect(generation.outputImage?.storageUrl).toContain(
      `/${scope.organization.slug}/${scope.project.slug}/img/${generation.outputImageId}`,
    );
    expect(generation.flowId).toMatch(/^[0-9a-f-]{36}$/);

    await withDb(async (db) => {
      // The generation keeps which images it used, and spent one request.
      const used = await db
        .select()
        .from(generationReferences)
        .where(eq(generationReferences.generationId, generation.id))
        .orderBy(generationReferences.position);
      expect(used.map((row) => [row.position, row.imageId, row.spec, row.resolvedVia])).toEqual([
        [1, hero.image.id, "@hero", "project"],
        [2, logo.image.id, logo.image.id, "id"],
      ]);
      // Two uploads and one generation.
      expect(await quotaUsed(db, key.id)).toBe(3);
      const events = await db.execute<{ kind: string; billable: boolean; input_image_tokens: number }>(
        sql`select kind, billable, input_image_tokens from usage_events where generation_id = ${generation.id}`,
      );
      expect(events.rows).toEqual([{ kind: "generation", billable: true, input_image_tokens: 2 * 258 }]);
      const [output] = await db
        .select()
        .from(images)
        .where(eq(images.id, generation.outputImageId as string));
      expect(output?.flowId).toBe(generation.flowId);
    });
  });

  it("adds the prompt's @aliases after the explicit references, each image once, skipping unknown ones", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("png", 30, 30), "hero.png");
    const logo = await uploadReference(key.key, await imageFile("webp", 30, 30), "logo.webp");
    await giveAlias(scope.project.id, hero.image.id, "@hero");
    await giveAlias(scope.project.id, logo.image.id, "@logo");
    const tag = marker();

    const generation = await created(
      key.key,
      { prompt: `@hero wearing @logo, not @nobody, @logo again ${tag}`, referenceImages: ["@logo"], autoEnhance: false },
      GEMINI_ENV,
    );

    expect(generation.referencedImages).toEqual([
      { imageId: logo.image.id, alias: "@logo" },
      { imageId: hero.image.id, alias: "@hero" },
    ]);
    const parts = await imageCallParts(tag);
    expect(parts.map((part) => part.inlineData?.mimeType ?? "text")).toEqual(["image/webp", "image/png", "text"]);
  });

  it("refuses a 4th reference named in the prompt, naming the prompt, before any model call", async () => {
    const { scope, key } = await freshProjectKey();
    const ids = [];
    for (const index of [0, 1, 2, 3]) {
      const stored = await uploadReference(key.key, await imageFile("png", 20 + index, 20), `r${index}.png`);
      ids.push(stored.image.id);
    }
    await giveAlias(scope.project.id, ids[3] as string, "@extra");
    const tag = marker();
    const { response } = await createV1(
      key.key,
      { prompt: `mix them with @extra ${tag}`, referenceImages: ids.slice(0, 3) },
      GEMINI_ENV,
    );
    expect(response.status).toBe(400);
    const problem = await readProblem(response);
    expect(problem.code).toBe("TOO_MANY_REFERENCES");
    expect(problem.errors?.map((error) => error.field)).toEqual(["prompt"]);
    expect(await fakeRequests(tag)).toHaveLength(0);
  });
});

describe("POST /api/v1/generations: Banatie's examples as written", () => {
  it("creates with referenceImages ['@hero'], then chains the flow with @last", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("png", 64, 64), "hero.png");
    await giveAlias(scope.project.id, hero.image.id, "@hero");

    const first = await created(key.key, { prompt: "A product photo with the logo in the corner", referenceImages: ["@hero"] });
    expect(first.referencedImages).toEqual([{ imageId: hero.image.id, alias: "@hero" }]);
    expect(first.outputImage).toMatchObject({ mimeType: "image/png" });
    expect(first.aspectRatio).toBe("1:1");

    const second = await created(key.key, { prompt: "make it darker", flowId: first.flowId, referenceImages: ["@last"] });
    expect(second.flowId).toBe(first.flowId);
    expect(second.referencedImages).toEqual([{ imageId: first.outputImageId, alias: "@last" }]);

    // @last is now the second output, @first still the first one.
    const third = await created(key.key, {
      prompt: "compare them",
      flowId: first.flowId,
      referenceImages: ["@last", "@first"],
      autoEnhance: false,
    });
    expect(third.referencedImages.map((reference) => reference.imageId)).toEqual([second.outputImageId, first.outputImageId]);
  });

  it("resolves @upload to the flow's newest upload, and @last without a flow is 404 with a hint", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const older = await uploadReference(key.key, await imageFile("png", 30, 30), "a.png");
    const newer = await uploadReference(key.key, await imageFile("png", 31, 30), "b.png");
    await withDb((db) =>
      db.execute(sql`update images set flow_id = ${flowId} where id in (${older.image.id}, ${newer.image.id})`),
    );
    const generation = await created(key.key, {
      prompt: "use the upload",
      flowId,
      referenceImages: ["@upload"],
      autoEnhance: false,
    });
    expect(generation.referencedImages).toEqual([{ imageId: newer.image.id, alias: "@upload" }]);

    const { response } = await createV1(key.key, { prompt: "no flow", flowId: null, referenceImages: ["@last"] });
    expect(response.status).toBe(404);
    const problem = await readProblem(response);
    expect(problem.code).toBe("IMAGE_NOT_FOUND");
    expect(problem.errors?.map((error) => error.field)).toEqual(["referenceImages.0"]);
  });
});

describe("POST /api/v1/generations: tenancy, aliases and flows", () => {
  it("refuses another project's image id or alias as 404, with no model call", async () => {
    const other = await freshProjectKey();
    const theirs = await uploadReference(other.key.key, await imageFile("png", 30, 30), "theirs.png");
    await giveAlias(other.scope.project.id, theirs.image.id, "@secret");
    const { key } = await freshProjectKey();
    const tag = marker();
    for (const reference of [theirs.image.id, "@secret"]) {
      const { response } = await createV1(key.key, { prompt: `steal it ${tag}`, referenceImages: [reference] }, GEMINI_ENV);
      expect(response.status).toBe(404);
      const problem = await readProblem(response);
      expect(problem.code).toBe("IMAGE_NOT_FOUND");
      expect(problem.detail).toContain("referenceImages.0");
    }
    expect(await fakeRequests(tag)).toHaveLength(0);
    const [used] = await withDb(async (db) =>
      db.select().from(generationReferences).where(eq(generationReferences.imageId, theirs.image.id)),
    );
    expect(used).toBeUndefined();
  });

  it("moves a project alias to the newest generation's image", async () => {
    const { scope, key } = await freshProjectKey();
    const first = await created(key.key, { prompt: "a red car", alias: "@car", autoEnhance: false });
    const second = await created(key.key, { prompt: "a blue car", alias: "@car", autoEnhance: false });
    const next = await created(key.key, { prompt: "@car at night", autoEnhance: false });
    expect(next.referencedImages).toEqual([{ imageId: second.outputImageId, alias: "@car" }]);
    const rows = await withDb((db) =>
      db.execute<{ image_id: string }>(
        sql`select image_id from image_aliases where project_id = ${scope.project.id} and alias = '@car'`,
      ),
    );
    expect(rows.rows).toEqual([{ image_id: second.outputImageId }]);
    expect(first.outputImageId).not.toBe(second.outputImageId);
    // Each move is audited, since it changes what the alias shows.
    const audited = await withDb((db) =>
      db.execute<{ metadata: Record<string, unknown> }>(
        sql`select metadata from audit_events where action = 'alias.changed' and project_id = ${scope.project.id} order by created_at`,
      ),
    );
    expect(audited.rows.map((row) => row.metadata)).toEqual([
      { alias: "@car", scope: "project", flowId: null, fromImageId: null, toImageId: first.outputImageId },
      { alias: "@car", scope: "project", flowId: null, fromImageId: first.outputImageId, toImageId: second.outputImageId },
    ]);
  });

  it("refuses a flow alias the flow already gives, 409 before any model call", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const cover = await created(key.key, { prompt: "a cover", flowId, flowAlias: "@cover", autoEnhance: false });
    expect(cover.flowId).toBe(flowId);
    const tag = marker();
    const { response } = await createV1(key.key, { prompt: `another cover ${tag}`, flowId, flowAlias: "@cover" }, GEMINI_ENV);
    expect(response.status).toBe(409);
    const problem = await readProblem(response);
    expect(problem.code).toBe("ALIAS_CONFLICT");
    expect(problem.errors?.map((error) => error.field)).toEqual(["flowAlias"]);
    expect(await fakeRequests(tag)).toHaveLength(0);
    // The flow alias resolves within the flow.
    const next = await created(key.key, { prompt: "@cover, wider", flowId, autoEnhance: false });
    expect(next.referencedImages).toEqual([{ imageId: cover.outputImageId, alias: "@cover" }]);
  });

  it("writes the flow's row when a flowId is given, and keeps a fresh flow lazy", async () => {
    const { scope, key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    await created(key.key, { prompt: "in a named flow", flowId, autoEnhance: false });
    const lazy = await created(key.key, { prompt: "in a fresh flow", autoEnhance: false });
    const none = await created(key.key, { prompt: "in no flow", flowId: null, autoEnhance: false, meta: { campaign: "spring" } });
    expect(none.flowId).toBeNull();
    expect(none.meta).toEqual({ campaign: "spring" });
    const flowRows = await withDb((db) =>
      db.execute<{ id: string }>(sql`select id from flows where project_id = ${scope.project.id}`),
    );
    expect(flowRows.rows).toEqual([{ id: flowId }]);
    const stored = await withDb((db) =>
      db.execute<{ flow_id: string | null; meta: unknown }>(
        sql`select flow_id, meta from generations where id in (${lazy.id}, ${none.id}) order by created_at`,
      ),
    );
    expect(stored.rows).toEqual([
      { flow_id: lazy.flowId, meta: {} },
      { flow_id: null, meta: { campaign: "spring" } },
    ]);
  });
});

describe("POST /api/v1/generations: bad input, quota and budget", () => {
  it("refuses bad input naming the field, spending no quota and recording nothing", async () => {
    const { key } = await freshProjectKey();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ prompt: "" }, "VALIDATION_ERROR", "prompt"],
      [{ prompt: "x", referenceImages: ["hero"] }, "ALIAS_FORMAT_CHECK", "referenceImages.0"],
      [{ prompt: "x", referenceImages: ["@a", "@b", "@c", "@d"] }, "TOO_MANY_REFERENCES", "referenceImages"],
      [{ prompt: "x", alias: "@last" }, "ALIAS_FORMAT_CHECK", "alias"],
      [{ prompt: "x", flowAlias: "no-at" }, "ALIAS_FORMAT_CHECK", "flowAlias"],
      [{ prompt: "x", flowAlias: "@a", flowId: null }, "VALIDATION_ERROR", "flowAlias"],
      [{ prompt: "x", flowId: "not-a-uuid" }, "VALIDATION_ERROR", "flowId"],
      [{ prompt: "x", meta: { blob: "x".repeat(5000) } }, "VALIDATION_ERROR", "meta"],
      [{ prompt: "x", aspectRatio: "5:1" }, "VALIDATION_ERROR", "aspectRatio"],
      [{ prompt: "x", unknown: 1 }, "VALIDATION_ERROR", ""],
    ];
    for (const [body, code, field] of cases) {
      const { response } = await createV1(key.key, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = await readProblem(response);
      expect(problem.code, JSON.stringify(body)).toBe(code);
      if (field) expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    await withDb(async (db) => {
      expect(await quotaUsed(db, key.id)).toBe(0);
      const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from generations where api_key_id = ${key.id}`);
      expect(rows.rows[0]?.n).toBe(0);
    });
  });

  it("refuses with 402 when the budget cannot hold the quote with references, before reading or calling anything", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("png", 64, 64), "hero.png");
    await giveAlias(scope.project.id, hero.image.id, "@hero");
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const patched = await api(`/api/admin/keys/${key.id}`, {
      method: "PATCH",
      key: master.key,
      body: { monthlyBudgetUsd: 0.01 },
    });
    expect(patched.status).toBe(200);
    const tag = marker();
    const { response } = await createV1(key.key, { prompt: `@hero in space ${tag}`, referenceImages: ["@hero"] }, GEMINI_ENV);
    expect(response.status).toBe(402);
    expect((await readProblem(response)).code).toBe("BUDGET_EXCEEDED");
    expect(await fakeRequests(tag)).toHaveLength(0);
    const rows = await withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from generations where api_key_id = ${key.id}`),
    );
    expect(rows.rows[0]?.n).toBe(0);
  });
});

async function getV1(key: string, path: string) {
  const response = await api(path, { key });
  return { response, body: response.status === 200 ? ((await response.clone().json()) as unknown) : null };
}

describe("GET /api/v1/generations/{id} and GET /api/v1/generations", () => {
  it("reads a generation as create answered it, keeps its references readable, and hides it from other projects", async () => {
    const { scope, key } = await freshProjectKey();
    const hero = await uploadReference(key.key, await imageFile("png", 48, 48), "hero.png");
    await giveAlias(scope.project.id, hero.image.id, "@hero");
    const generation = await created(key.key, { prompt: "@hero as a statue", meta: { take: 1 } });
    // Deleting a referenced image keeps the generation's record readable.
    await withDb((db) => db.execute(sql`update images set deleted_at = now() where id = ${hero.image.id}`));

    const { response, body } = await getV1(key.key, `/api/v1/generations/${generation.id}`);
    expect(response.status).toBe(200);
    const { enhancement: _, ...stored } = generation;
    expect((body as ApiBody<"getGenerationV1", 200>).data).toEqual(stored);
    expect(stored.referencedImages).toEqual([{ imageId: hero.image.id, alias: "@hero" }]);

    const other = await freshProjectKey();
    const foreign = await api(`/api/v1/generations/${generation.id}`, { key: other.key.key });
    expect(foreign.status).toBe(404);
    expect((await readProblem(foreign)).code).toBe("GENERATION_NOT_FOUND");
  });

  it("keeps a failed generation, which GET shows with its error and no image", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptFake({ marker: tag, model: "gemini-2.5-flash-image", status: 400 });
    const { response } = await createV1(key.key, { prompt: `fails ${tag}`, autoEnhance: false }, GEMINI_ENV);
    expect(response.status).toBe(502);
    await response.body?.cancel();
    const { body } = await getV1(key.key, "/api/v1/generations?status=failed");
    const list = body as ApiBody<"listGenerationsV1", 200>;
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ status: "failed", outputImageId: null, outputImage: null, prompt: `fails ${tag}` });
    expect(list.data[0]?.errorMessage).toContain("400");
    expect(list.data[0]?.cost.usdMicros).toBe(0);
  });

  it("lists newest first, filtered by flow and status, with offset pagination and deleted ones on request", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const made = [];
    for (const index of [0, 1, 2]) made.push(await created(key.key, { prompt: `in flow ${index}`, flowId, autoEnhance: false }));
    const elsewhere = await created(key.key, { prompt: "elsewhere", autoEnhance: false });

    const all = (await getV1(key.key, "/api/v1/generations")).body as ApiBody<"listGenerationsV1", 200>;
    expect(all.data.map((generation) => generation.id)).toEqual([elsewhere.id, ...made.map((g) => g.id).reverse()]);
    expect(all.pagination).toEqual({ total: 4, limit: 20, offset: 0, hasMore: false });

    const page = (await getV1(key.key, `/api/v1/generations?flowId=${flowId}&limit=2&offset=1&status=success`)).body as ApiBody<
      "listGenerationsV1",
      200
    >;
    expect(page.data.map((generation) => generation.id)).toEqual([made[1]?.id, made[0]?.id]);
    expect(page.pagination).toEqual({ total: 3, limit: 2, offset: 1, hasMore: false });
    const first = (await getV1(key.key, `/api/v1/generations?flowId=${flowId}&limit=2`)).body as ApiBody<
      "listGenerationsV1",
      200
    >;
    expect(first.pagination).toEqual({ total: 3, limit: 2, offset: 0, hasMore: true });
    const pending = (await getV1(key.key, "/api/v1/generations?status=processing")).body as ApiBody<"listGenerationsV1", 200>;
    expect(pending.data).toEqual([]);

    await withDb((db) => db.execute(sql`update generations set deleted_at = now() where id = ${elsewhere.id}`));
    const live = (await getV1(key.key, "/api/v1/generations")).body as ApiBody<"listGenerationsV1", 200>;
    expect(live.pagination.total).toBe(3);
    expect((await api(`/api/v1/generations/${elsewhere.id}`, { key: key.key })).status).toBe(404);
    const withDeleted = (await getV1(key.key, "/api/v1/generations?includeDeleted=true")).body as ApiBody<
      "listGenerationsV1",
      200
    >;
    expect(withDeleted.pagination.total).toBe(4);
    expect(withDeleted.data[0]?.deletedAt).toEqual(expect.any(String));
    expect(withDeleted.data[1]?.deletedAt).toBeUndefined();
  });

  it("refuses bad filters naming them, and reads spend no quota", async () => {
    const { key } = await freshProjectKey();
    for (const [query, field] of [
      ["limit=101", "limit"],
      ["limit=0", "limit"],
      ["offset=-1", "offset"],
      ["offset=10001", "offset"],
      ["status=done", "status"],
      ["flowId=nope", "flowId"],
      ["includeDeleted=yes", "includeDeleted"],
    ]) {
      const response = await api(`/api/v1/generations?${query}`, { key: key.key });
      expect(response.status, query).toBe(400);
      expect((await readProblem(response)).errors?.map((error) => error.field)).toEqual([field]);
    }
    const badId = await api("/api/v1/generations/not-a-uuid", { key: key.key });
    expect(badId.status).toBe(400);
    await badId.body?.cancel();
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });
});

describe("DELETE /api/v1/generations/{id}", () => {
  async function remove(key: string, id: string) {
    const response = await api(`/api/v1/generations/${id}`, { method: "DELETE", key });
    const data = response.status === 200 ? ((await response.clone().json()) as ApiBody<"deleteGenerationV1", 200>).data : null;
    return { response, data };
  }

  it("keeps an image a project or flow alias points at, which still resolves", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const byProject = await created(key.key, { prompt: "kept by project", alias: "@keep", autoEnhance: false });
    const byFlow = await created(key.key, { prompt: "kept by flow", flowId, flowAlias: "@mine", autoEnhance: false });
    for (const generation of [byProject, byFlow]) {
      const { response, data } = await remove(key.key, generation.id);
      expect(response.status).toBe(200);
      expect(data).toEqual({ id: generation.id, deleted: true, outputImageKept: true });
      expect((await api(`/api/v1/generations/${generation.id}`, { key: key.key })).status).toBe(404);
      expect((await api(generation.outputImage?.url as string)).status).toBe(200);
    }
    const next = await created(key.key, { prompt: "@keep and @mine", flowId, autoEnhance: false });
    expect(next.referencedImages).toEqual([
      { imageId: byProject.outputImageId, alias: "@keep" },
      { imageId: byFlow.outputImageId, alias: "@mine" },
    ]);
  });

  it("keeps the project's watermark image, deleting only the generation", async () => {
    const { key } = await freshProjectKey();
    const generation = await created(key.key, { prompt: "a stamp", autoEnhance: false });
    const watermark = await api("/api/project/image-settings", {
      method: "PUT",
      key: key.key,
      body: { watermark: { imageId: generation.outputImageId } },
    });
    expect(watermark.status, await watermark.clone().text()).toBe(200);
    await watermark.body?.cancel();

    const { response, data } = await remove(key.key, generation.id);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data).toEqual({ id: generation.id, deleted: true, outputImageKept: true });
    const served = await api(generation.outputImage?.url as string);
    expect(served.status).toBe(200);
    await served.body?.cancel();
    expect((await api(`/api/v1/generations/${generation.id}`, { key: key.key })).status).toBe(404);
  });

  it("deletes an image nothing names: its file and URL are gone, the generation is listed only with includeDeleted", async () => {
    const { key } = await freshProjectKey();
    const generation = await created(key.key, { prompt: "to delete", autoEnhance: false });
    const { response, data } = await remove(key.key, generation.id);
    expect(response.status).toBe(200);
    expect(data).toEqual({ id: generation.id, deleted: true, outputImageKept: false });
    const served = await api(generation.outputImage?.url as string);
    expect(served.status).toBe(404);
    await served.body?.cancel();
    const [row] = await withDb((db) =>
      db
        .select()
        .from(images)
        .where(eq(images.id, generation.outputImageId as string)),
    );
    expect(row?.deletedAt).toBeInstanceOf(Date);
    const listed = (await getV1(key.key, "/api/v1/generations?includeDeleted=true")).body as ApiBody<"listGenerationsV1", 200>;
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({ id: generation.id, outputImage: null, deletedAt: expect.any(String) });
    // Deleting again finds nothing.
    const again = await remove(key.key, generation.id);
    expect(again.response.status).toBe(404);
    expect((await readProblem(again.response)).code).toBe("GENERATION_NOT_FOUND");
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });
});

describe("regenerating in place: PUT /api/v1/generations/{id} and POST …/regenerate", () => {
  async function regenerate(key: string, id: string, env: Record<string, unknown> = {}) {
    const response = await api(`/api/v1/generations/${id}/regenerate`, { method: "POST", key, env });
    const data =
      response.status === 200 ? ((await response.clone().json()) as ApiBody<"regenerateGenerationV1", 200>).data : null;
    return { response, data };
  }

  async function update(key: string, id: string, body: Record<string, unknown>, env: Record<string, unknown> = {}) {
    const response = await api(`/api/v1/generations/${id}`, { method: "PUT", key, body, env });
    const data = response.status === 200 ? ((await response.clone().json()) as ApiBody<"updateGenerationV1", 200>).data : null;
    return { response, data };
  }

  it("keeps the image id and URL when a new prompt regenerates, serving the new content there", async () => {
    const { key } = await freshProjectKey();
    const before = await created(key.key, { prompt: "a calm sea", autoEnhance: false, meta: { v: 1 } });
    const oldBytes = new Uint8Array(await (await api(before.outputImage?.url as string)).arrayBuffer());

    const { response, data } = await update(key.key, before.id, { prompt: "a stormy sea", aspectRatio: "16:9" });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data).toMatchObject({
      id: before.id,
      outputImageId: before.outputImageId,
      prompt: "a stormy sea",
      aspectRatio: "16:9",
      retryCount: 1,
      meta: { v: 1 },
    });
    expect(data?.outputImage?.storageUrl).toBe(before.outputImage?.storageUrl);
    expect(data?.outputImage?.width).toBeGreaterThan(data?.outputImage?.height as number);
    const newBytes = new Uint8Array(await (await api(data?.outputImage?.url as string)).arrayBuffer());
    expect(newBytes).not.toEqual(oldBytes);
    // The old object is gone.
    const old = await api(before.outputImage?.url as string);
    expect(old.status).toBe(404);
    await old.body?.cancel();
    const stored = (await getV1(key.key, `/api/v1/generations/${before.id}`)).body as ApiBody<"getGenerationV1", 200>;
    expect(stored.data).toMatchObject({ outputImageId: before.outputImageId, prompt: "a stormy sea", retryCount: 1 });
    await withDb(async (db) => {
      expect(await quotaUsed(db, key.id)).toBe(2);
      // Each run's image call is a usage event of the same generation.
      const events = await db.execute<{ kind: string; billable: boolean }>(
        sql`select kind, billable from usage_events where generation_id = ${before.id} order by created_at`,
      );
      expect(events.rows).toEqual([
        { kind: "generation", billable: true },
        { kind: "generation", billable: true },
      ]);
    });
  });

  it("regenerates with aliases found again: a moved @hero gives its new image, @last never its own output", async () => {
    const { scope, key } = await freshProjectKey();
    const one = await uploadReference(key.key, await imageFile("png", 40, 40), "one.png");
    const two = await uploadReference(key.key, await imageFile("png", 41, 40), "two.png");
    await giveAlias(scope.project.id, one.image.id, "@hero");
    const first = await created(key.key, { prompt: "first", autoEnhance: false });
    const generation = await created(key.key, {
      prompt: "@hero again",
      flowId: first.flowId,
      referenceImages: ["@last"],
      autoEnhance: false,
    });
    expect(generation.referencedImages.map((reference) => reference.imageId)).toEqual([first.outputImageId, one.image.id]);
    await giveAlias(scope.project.id, two.image.id, "@hero");

    const { response, data } = await regenerate(key.key, generation.id);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data?.referencedImages).toEqual([
      { imageId: first.outputImageId, alias: "@last" },
      { imageId: two.image.id, alias: "@hero" },
    ]);
    expect(data?.outputImageId).toBe(generation.outputImageId);
  });

  it("leaves the generation and its image unchanged when the regeneration fails", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const before = await created(key.key, { prompt: `a tower ${tag}`, autoEnhance: false }, GEMINI_ENV);
    await scriptFake({ marker: tag, model: "gemini-2.5-flash-image", status: 400 });
    const { response } = await regenerate(key.key, before.id, GEMINI_ENV);
    expect(response.status).toBe(502);
    await response.body?.cancel();
    const stored = (await getV1(key.key, `/api/v1/generations/${before.id}`)).body as ApiBody<"getGenerationV1", 200>;
    expect(stored.data).toMatchObject({ status: "success", retryCount: 0, outputImage: before.outputImage });
    const served = await api(before.outputImage?.url as string);
    expect(served.status).toBe(200);
    await served.body?.cancel();
  });

  it("changes nothing when a PUT's regeneration fails: meta, flowId, prompt and image stay", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const flowId = crypto.randomUUID();
    const before = await created(
      key.key,
      { prompt: `a mill ${tag}`, flowId, flowAlias: "@mill", autoEnhance: false, meta: { v: 1 } },
      GEMINI_ENV,
    );
    await scriptFake({ marker: tag, model: "gemini-2.5-flash-image", status: 400 });

    const { response } = await update(
      key.key,
      before.id,
      { prompt: `a windmill ${tag}`, meta: { v: 2 }, flowId: crypto.randomUUID() },
      GEMINI_ENV,
    );
    expect(response.status).toBe(502);
    await response.body?.cancel();
    const stored = (await getV1(key.key, `/api/v1/generations/${before.id}`)).body as ApiBody<"getGenerationV1", 200>;
    expect(stored.data).toMatchObject({
      prompt: `a mill ${tag}`,
      meta: { v: 1 },
      flowId,
      retryCount: 0,
      outputImage: before.outputImage,
    });
    await withDb(async (db) => {
      const [image] = await db
        .select()
        .from(images)
        .where(eq(images.id, before.outputImageId as string));
      expect(image?.flowId).toBe(flowId);
      const aliases = await db.execute(sql`select alias from image_aliases where image_id = ${before.outputImageId}`);
      expect(aliases.rows).toEqual([{ alias: "@mill" }]);
    });
  });

  it("moves a regenerated generation to the PUT's flow, with its meta, in the regeneration's transaction", async () => {
    const { key } = await freshProjectKey();
    const before = await created(key.key, {
      prompt: "a mill",
      flowId: crypto.randomUUID(),
      flowAlias: "@mill",
      autoEnhance: false,
    });
    const flowId = crypto.randomUUID();
    const { response, data } = await update(key.key, before.id, { prompt: "a windmill", meta: { v: 2 }, flowId });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data).toMatchObject({
      prompt: "a windmill",
      meta: { v: 2 },
      flowId,
      retryCount: 1,
      outputImageId: before.outputImageId,
    });
    const stored = (await getV1(key.key, `/api/v1/generations/${before.id}`)).body as ApiBody<"getGenerationV1", 200>;
    expect(stored.data).toMatchObject({ prompt: "a windmill", meta: { v: 2 }, flowId, retryCount: 1 });
    await withDb(async (db) => {
      const [image] = await db
        .select()
        .from(images)
        .where(eq(images.id, before.outputImageId as string));
      expect(image?.flowId).toBe(flowId);
      const aliases = await db.execute(sql`select 1 from image_aliases where image_id = ${before.outputImageId}`);
      expect(aliases.rows).toEqual([]);
    });
  });

  it("gives a failed generation its first image when it is regenerated", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await scriptFake({ marker: tag, model: "gemini-2.5-flash-image", status: 400 });
    const failed = await createV1(key.key, { prompt: `a bridge ${tag}`, autoEnhance: false }, GEMINI_ENV);
    expect(failed.response.status).toBe(502);
    await failed.response.body?.cancel();
    const listed = (await getV1(key.key, "/api/v1/generations")).body as ApiBody<"listGenerationsV1", 200>;
    const id = listed.data[0]?.id as string;
    expect(listed.data[0]).toMatchObject({ status: "failed", outputImage: null });

    // Offline, the preview model answers.
    const { response, data } = await regenerate(key.key, id);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data).toMatchObject({ id, status: "success", errorMessage: null, retryCount: 1 });
    const served = await api(data?.outputImage?.url as string);
    expect(served.status).toBe(200);
    await served.body?.cancel();
  });

  it("changes flowId and meta alone without a model call or quota, moving the image to the flow", async () => {
    const { key } = await freshProjectKey();
    const before = await created(key.key, {
      prompt: "a lamp",
      flowId: crypto.randomUUID(),
      flowAlias: "@lamp",
      autoEnhance: false,
    });
    const flowId = crypto.randomUUID();
    const { response, data } = await update(key.key, before.id, { flowId, meta: { tag: "moved" } });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(data).toMatchObject({ flowId, meta: { tag: "moved" }, retryCount: 0, outputImage: before.outputImage });
    await withDb(async (db) => {
      const [image] = await db
        .select()
        .from(images)
        .where(eq(images.id, before.outputImageId as string));
      expect(image?.flowId).toBe(flowId);
      const aliases = await db.execute(sql`select 1 from image_aliases where image_id = ${before.outputImageId}`);
      expect(aliases.rows).toEqual([]);
      expect(await quotaUsed(db, key.id)).toBe(1);
    });
    const empty = await update(key.key, before.id, {});
    expect(empty.response.status).toBe(400);
    await empty.response.body?.cancel();
    const other = await freshProjectKey();
    const foreign = await update(other.key.key, before.id, { meta: {} });
    expect(foreign.response.status).toBe(404);
    expect((await readProblem(foreign.response)).code).toBe("GENERATION_NOT_FOUND");
  });
});
