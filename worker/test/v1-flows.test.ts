import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, readProblem } from "./support/app";
import { insertImageRow, quotaUsed, withDb } from "./support/fixtures";
import { insertGenerationRow, s3, setFlowAlias, setProjectAlias, uploadInFlow } from "./support/flows";
import { freshProjectKey } from "./support/generation";

type Flow = ApiBody<"getFlow", 200>["data"];

async function getFlow(key: string, flowId: string) {
  return api(`/api/v1/flows/${flowId}`, { key });
}

async function flowOf(key: string, flowId: string): Promise<Flow> {
  const response = await getFlow(key, flowId);
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as ApiBody<"getFlow", 200>).data;
}

async function putAliases(key: string, flowId: string, aliases: unknown) {
  return api(`/api/v1/flows/${flowId}/aliases`, { key, method: "PUT", body: { aliases } });
}

async function createV1(key: string, body: Record<string, unknown>) {
  const response = await api("/api/v1/generations", { key, body });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
}

/** A project with a lazy flow (used once: no flows row) of one generation and two real uploads. */
async function projectWithFlow() {
  const { scope, key } = await freshProjectKey();
  const flowId = crypto.randomUUID();
  const generationId = await insertGenerationRow(scope, key, flowId);
  const first = await uploadInFlow(key.key, flowId);
  const second = await uploadInFlow(key.key, flowId, { format: "webp" });
  return { scope, key, flowId, generationId, first, second };
}

describe("GET /api/v1/flows/{id} and GET /api/v1/flows", () => {
  it("open a lazy flow by id with its counts, and list flows once they have a row", async () => {
    const { key, flowId, first } = await projectWithFlow();
    expect(await flowOf(key.key, flowId)).toMatchObject({ id: flowId, aliases: {}, generationCount: 1, imageCount: 2, meta: {} });

    const empty = await api("/api/v1/flows", { key: key.key });
    expect(await empty.json()).toEqual({
      success: true,
      data: [],
      pagination: { total: 0, limit: 20, offset: 0, hasMore: false },
    });

    // Aliases give the flow its row: it is listed from then on.
    expect((await putAliases(key.key, flowId, { "@hero": first.id })).status).toBe(200);
    const second = crypto.randomUUID();
    expect((await putAliases(key.key, second, { "@hero": first.id })).status).toBe(200);
    const page = (await (await api("/api/v1/flows?limit=1", { key: key.key })).json()) as ApiBody<"listFlows", 200>;
    expect(page.data.map((flow) => flow.id)).toEqual([second]);
    expect(page.pagination).toEqual({ total: 2, limit: 1, offset: 0, hasMore: true });
    const next = (await (await api("/api/v1/flows?limit=1&offset=1", { key: key.key })).json()) as ApiBody<"listFlows", 200>;
    expect(next.data).toMatchObject([{ id: flowId, aliases: { "@hero": first.id }, generationCount: 1, imageCount: 2 }]);
    expect(next.pagination).toEqual({ total: 2, limit: 1, offset: 1, hasMore: false });
  });

  it("refuse a page out of range, naming the field, and an id that is not a UUID", async () => {
    const { key } = await freshProjectKey();
    for (const [query, field] of [
      ["limit=101", "limit"],
      ["limit=0", "limit"],
      ["offset=-1", "offset"],
      ["offset=10001", "offset"],
    ]) {
      const problem = await readProblem(await api(`/api/v1/flows?${query}`, { key: key.key }));
      expect(problem, query).toMatchObject({ status: 400, code: "VALIDATION_ERROR", error: { code: "VALIDATION_ERROR" } });
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    const problem = await readProblem(await getFlow(key.key, "not-a-uuid"));
    expect(problem).toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
    expect(problem.errors?.map((error) => error.field)).toContain("id");
  });

  it("answer FLOW_NOT_FOUND for an id the project never used", async () => {
    const { key } = await freshProjectKey();
    const problem = await readProblem(await getFlow(key.key, crypto.randomUUID()));
    expect(problem).toMatchObject({ status: 404, code: "FLOW_NOT_FOUND", error: { code: "FLOW_NOT_FOUND" } });
  });
});

describe("GET /api/v1/flows/{id}/generations and GET /api/v1/flows/{id}/images", () => {
  async function listed(key: string, path: string) {
    const response = await api(path, { key });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
    return (await response.json()) as { data: { id: string; deletedAt?: string }[]; pagination: unknown };
  }

  /** The flow's sub-list, checked to answer exactly what the top-level list filtered by the flow answers. */
  async function subList(key: string, flowId: string, list: "generations" | "images", query = "") {
    const body = await listed(key, `/api/v1/flows/${flowId}/${list}${query ? `?${query}` : ""}`);
    expect(body, `${list}?${query}`).toEqual(await listed(key, `/api/v1/${list}?flowId=${flowId}${query ? `&${query}` : ""}`));
    return body;
  }

  const ids = (body: { data: { id: string }[] }) => body.data.map((item) => item.id);

  it("list the flow's generations and images, newest first, filtered and paged as the top-level lists by flowId, spending no quota", async () => {
    const { scope, key } = await freshProjectKey();
    const first = await createV1(key.key, { prompt: "a red fox", autoEnhance: false });
    const flowId = first.flowId as string;
    const second = await createV1(key.key, { prompt: "it at night", flowId, referenceImages: ["@last"], autoEnhance: false });
    const failed = await insertGenerationRow(scope, key, flowId);
    const deleted = await insertGenerationRow(scope, key, flowId);
    await withDb(async (db) => {
      await db.execute(sql`update generations set status = 'failed', error_message = 'no image' where id = ${failed}`);
      await db.execute(sql`update generations set deleted_at = now() where id = ${deleted}`);
    });
    const upload = await uploadInFlow(key.key, flowId);
    const deletedImage = await withDb((db) => insertImageRow(db, scope, "uploads", { flowId, deletedAt: new Date() }));
    await setFlowAlias(scope.project.id, flowId, first.outputImageId as string, "@hero");
    // Another flow of the project, and an image in no flow: never listed.
    await insertGenerationRow(scope, key, crypto.randomUUID());
    await uploadInFlow(key.key, null);
    const spent = await withDb((db) => quotaUsed(db, key.id));

    const generations = await subList(key.key, flowId, "generations");
    expect(ids(generations)).toEqual([failed, second.id, first.id]);
    expect(generations.pagination).toEqual({ total: 3, limit: 20, offset: 0, hasMore: false });
    expect(generations.data[1]).toMatchObject({
      id: second.id,
      flowId,
      status: "success",
      outputImageId: second.outputImageId,
      referencedImages: [{ imageId: first.outputImageId, alias: "@last" }],
    });
    const page = await subList(key.key, flowId, "generations", "limit=2");
    expect(ids(page)).toEqual([failed, second.id]);
    expect(page.pagination).toEqual({ total: 3, limit: 2, offset: 0, hasMore: true });
    const last = await subList(key.key, flowId, "generations", "limit=2&offset=2");
    expect(ids(last)).toEqual([first.id]);
    expect(last.pagination).toEqual({ total: 3, limit: 2, offset: 2, hasMore: false });
    expect(ids(await subList(key.key, flowId, "generations", "status=success"))).toEqual([second.id, first.id]);
    expect(ids(await subList(key.key, flowId, "generations", "status=failed"))).toEqual([failed]);
    const withDeleted = await subList(key.key, flowId, "generations", "includeDeleted=true");
    expect(ids(withDeleted)).toEqual([deleted, failed, second.id, first.id]);
    expect(withDeleted.data[0]?.deletedAt).toEqual(expect.any(String));

    const images = await subList(key.key, flowId, "images");
    expect(ids(images)).toEqual([upload.id, second.outputImageId, first.outputImageId]);
    expect(images.pagination).toEqual({ total: 3, limit: 20, offset: 0, hasMore: false });
    expect(images.data[2]).toMatchObject({ id: first.outputImageId, flowId, source: "generated", flowAliases: ["@hero"] });
    expect(ids(await subList(key.key, flowId, "images", "source=generated"))).toEqual([
      second.outputImageId,
      first.outputImageId,
    ]);
    expect(ids(await subList(key.key, flowId, "images", "source=uploaded"))).toEqual([upload.id]);
    expect(ids(await subList(key.key, flowId, "images", "alias=@hero"))).toEqual([first.outputImageId]);
    const middle = await subList(key.key, flowId, "images", "limit=1&offset=1");
    expect(ids(middle)).toEqual([second.outputImageId]);
    expect(middle.pagination).toEqual({ total: 3, limit: 1, offset: 1, hasMore: true });
    expect(ids(await subList(key.key, flowId, "images", "includeDeleted=true"))).toEqual([
      deletedImage,
      upload.id,
      second.outputImageId,
      first.outputImageId,
    ]);

    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(spent);
  });

  it("list a lazy flow of uploads only: no generation, its images", async () => {
    const { key, flowId, generationId, first, second } = await projectWithFlow();
    await withDb((db) => db.execute(sql`update generations set deleted_at = now() where id = ${generationId}`));
    const generations = await subList(key.key, flowId, "generations");
    expect(generations).toEqual({ success: true, data: [], pagination: { total: 0, limit: 20, offset: 0, hasMore: false } });
    expect(ids(await subList(key.key, flowId, "images"))).toEqual([second.id, first.id]);
  });

  it("answer FLOW_NOT_FOUND for a flow the project never used", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    for (const list of ["generations", "images"]) {
      const problem = await readProblem(await api(`/api/v1/flows/${flowId}/${list}`, { key: key.key }));
      expect(problem, list).toMatchObject({ status: 404, code: "FLOW_NOT_FOUND", error: { code: "FLOW_NOT_FOUND" } });
    }
  });

  it("refuse an invalid filter or page, naming the field, and an id that is not a UUID", async () => {
    const { key, flowId } = await projectWithFlow();
    for (const [path, code, field] of [
      [`${flowId}/generations?status=done`, "VALIDATION_ERROR", "status"],
      [`${flowId}/generations?limit=101`, "VALIDATION_ERROR", "limit"],
      [`${flowId}/generations?offset=10001`, "VALIDATION_ERROR", "offset"],
      [`${flowId}/generations?includeDeleted=yes`, "VALIDATION_ERROR", "includeDeleted"],
      [`${flowId}/images?source=made`, "VALIDATION_ERROR", "source"],
      [`${flowId}/images?limit=0`, "VALIDATION_ERROR", "limit"],
      [`${flowId}/images?offset=-1`, "VALIDATION_ERROR", "offset"],
      [`${flowId}/images?alias=hero`, "ALIAS_FORMAT_CHECK", "alias"],
      ["not-a-uuid/generations", "VALIDATION_ERROR", "id"],
      ["not-a-uuid/images", "VALIDATION_ERROR", "id"],
    ]) {
      const problem = await readProblem(await api(`/api/v1/flows/${path}`, { key: key.key }));
      expect(problem, path).toMatchObject({ status: 400, code, error: { code } });
      expect(
        problem.errors?.map((error) => error.field),
        path,
      ).toContain(field);
    }
  });
});

describe("PUT /api/v1/flows/{id}/aliases", () => {
  it("merges: a given alias overwrites the one of that name, the others stay, @alias targets resolve", async () => {
    const { scope, key, flowId, first, second } = await projectWithFlow();
    await setProjectAlias(scope.project.id, second.id, "@logo");
    const merged = await putAliases(key.key, flowId, { "@hero": first.id, "@brand": "@logo" });
    expect(merged.status, await merged.clone().text()).toBe(200);
    expect(((await merged.json()) as ApiBody<"mergeFlowAliases", 200>).data.aliases).toEqual({
      "@hero": first.id,
      "@brand": second.id,
    });

    const again = await putAliases(key.key, flowId, { "@hero": second.id });
    expect(((await again.json()) as ApiBody<"mergeFlowAliases", 200>).data.aliases).toEqual({
      "@hero": second.id,
      "@brand": second.id,
    });
    const changes = await withDb((db) =>
      db.execute<{ metadata: Record<string, unknown> }>(
        sql`select metadata from audit_events where project_id = ${scope.project.id} and action = 'alias.changed' order by created_at, id`,
      ),
    );
    expect(changes.rows.map((row) => row.metadata)).toContainEqual({
      alias: "@hero",
      scope: "flow",
      flowId,
      fromImageId: first.id,
      toImageId: second.id,
    });
  });

  it("refuses bad aliases, unknown or foreign images and empty or oversized maps, changing nothing", async () => {
    const { key, flowId, first } = await projectWithFlow();
    const other = await freshProjectKey();
    const foreign = await uploadInFlow(other.key.key, null);
    const cases: [unknown, number, string, string][] = [
      [{ hero: first.id }, 400, "ALIAS_FORMAT_CHECK", "aliases.hero"],
      [{ "@last": first.id }, 400, "ALIAS_FORMAT_CHECK", "aliases.@last"],
      [{ "@hero": "not an image" }, 400, "ALIAS_FORMAT_CHECK", "aliases.@hero"],
      [{ "@hero": crypto.randomUUID() }, 404, "IMAGE_NOT_FOUND", "aliases.@hero"],
      [{ "@hero": foreign.id }, 404, "IMAGE_NOT_FOUND", "aliases.@hero"],
      [{ "@hero": "@nobody" }, 404, "IMAGE_NOT_FOUND", "aliases.@hero"],
      [{}, 400, "VALIDATION_ERROR", "aliases"],
      [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`@a${i}`, first.id])), 400, "VALIDATION_ERROR", "aliases"],
    ];
    for (const [aliases, status, code, field] of cases) {
      const problem = await readProblem(await putAliases(key.key, flowId, aliases));
      expect(problem, JSON.stringify(aliases)).toMatchObject({ status, code, error: { code } });
      expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    // Still lazy and without aliases: nothing was written.
    expect((await flowOf(key.key, flowId)).aliases).toEqual({});
    expect((await (await api("/api/v1/flows", { key: key.key })).json()) as ApiBody<"listFlows", 200>).toMatchObject({
      pagination: { total: 0 },
    });
  });
});

describe("DELETE /api/v1/flows/{id}/aliases/{alias}", () => {
  it("removes one alias, written @name or %40name; a missing one is FLOW_NOT_FOUND", async () => {
    const { scope, key, flowId, first, second } = await projectWithFlow();
    await setFlowAlias(scope.project.id, flowId, first.id, "@hero");
    await setFlowAlias(scope.project.id, flowId, second.id, "@side");

    const removed = await api(`/api/v1/flows/${flowId}/aliases/@hero`, { key: key.key, method: "DELETE" });
    expect(removed.status, await removed.clone().text()).toBe(200);
    expect(((await removed.json()) as ApiBody<"removeFlowAlias", 200>).data.aliases).toEqual({ "@side": second.id });
    const escaped = await api(`/api/v1/flows/${flowId}/aliases/%40side`, { key: key.key, method: "DELETE" });
    expect(escaped.status).toBe(200);
    expect((await flowOf(key.key, flowId)).aliases).toEqual({});

    const again = await readProblem(await api(`/api/v1/flows/${flowId}/aliases/@hero`, { key: key.key, method: "DELETE" }));
    expect(again).toMatchObject({ status: 404, code: "FLOW_NOT_FOUND" });
    const bad = await readProblem(await api(`/api/v1/flows/${flowId}/aliases/hero`, { key: key.key, method: "DELETE" }));
    expect(bad).toMatchObject({ status: 400, code: "ALIAS_FORMAT_CHECK" });
    expect(bad.errors?.map((error) => error.field)).toEqual(["alias"]);
  });
});

describe("DELETE /api/v1/flows/{id}", () => {
  it("deletes the generations and unaliased images (objects too), keeps aliased images outside any flow", async () => {
    const { scope, key, flowId, generationId, first, second } = await projectWithFlow();
    await setProjectAlias(scope.project.id, second.id, "@keep");
    await setFlowAlias(scope.project.id, flowId, first.id, "@hero");

    const response = await api(`/api/v1/flows/${flowId}`, { key: key.key, method: "DELETE" });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toEqual({ success: true, data: { id: flowId, deleted: true, imagesKept: 1 } });

    // The unaliased image is gone, object and URL; the aliased one is served and in no flow.
    expect(await s3().head(first.storageKey)).toBeNull();
    expect((await api(new URL(first.url).pathname)).status).toBe(404);
    const kept = await api(new URL(second.url).pathname);
    expect(kept.status).toBe(200);
    expect(new Uint8Array(await kept.arrayBuffer())).toEqual(second.bytes);
    const rows = await withDb((db) =>
      db.execute<{ id: string; deleted: boolean; flow_id: string | null }>(
        sql`select id, deleted_at is not null as deleted, flow_id from images where id in (${first.id}, ${second.id})
            union all select id, deleted_at is not null, flow_id from generations where id = ${generationId}`,
      ),
    );
    expect(Object.fromEntries(rows.rows.map((row) => [row.id, [row.deleted, row.flow_id]]))).toEqual({
      [first.id]: [true, flowId],
      [second.id]: [false, null],
      [generationId]: [true, flowId],
    });
    expect((await readProblem(await getFlow(key.key, flowId))).code).toBe("FLOW_NOT_FOUND");
    expect((await readProblem(await api(`/api/v1/flows/${flowId}`, { key: key.key, method: "DELETE" }))).code).toBe(
      "FLOW_NOT_FOUND",
    );

    const audit = await withDb((db) =>
      db.execute<{ action: string; target_id: string }>(
        sql`select action, target_id from audit_events where project_id = ${scope.project.id}
            and action in ('flow.deleted', 'image.deleted') order by action`,
      ),
    );
    expect(audit.rows).toEqual([
      { action: "flow.deleted", target_id: flowId },
      { action: "image.deleted", target_id: first.id },
    ]);
  });
});

describe("POST /api/v1/flows/{id}/regenerate", () => {
  async function served(scope: { organization: { slug: string }; project: { slug: string } }, imageId: string) {
    const response = await api(`/api/images/${scope.organization.slug}/${scope.project.slug}/img/${imageId}`);
    expect(response.status).toBe(200);
    return new Uint8Array(await response.arrayBuffer());
  }

  it("regenerates the newest generation in place: same image id and storageUrl, new bytes there, one request spent", async () => {
    const { scope, key } = await freshProjectKey();
    const one = await uploadInFlow(key.key, null, { width: 40, height: 40 });
    const two = await uploadInFlow(key.key, null, { width: 41, height: 40 });
    await setProjectAlias(scope.project.id, one.id, "@hero");
    const older = await createV1(key.key, { prompt: "a quiet harbour", autoEnhance: false });
    const newest = await createV1(key.key, { prompt: "@hero at dawn", flowId: older.flowId, autoEnhance: false });
    const before = await served(scope, newest.outputImageId as string);
    const olderBytes = await served(scope, older.outputImageId as string);
    // The preview model is deterministic: a moved alias is what makes the new picture differ.
    await setProjectAlias(scope.project.id, two.id, "@hero");
    const spent = await withDb((db) => quotaUsed(db, key.id));

    const response = await api(`/api/v1/flows/${older.flowId}/regenerate`, { key: key.key, method: "POST" });
    expect(response.status, await response.clone().text()).toBe(200);
    const { data } = (await response.json()) as ApiBody<"regenerateFlow", 200>;
    expect(data).toMatchObject({
      id: newest.id,
      flowId: older.flowId,
      outputImageId: newest.outputImageId,
      prompt: "@hero at dawn",
      retryCount: 1,
      referencedImages: [{ imageId: two.id, alias: "@hero" }],
    });
    expect(data.outputImage?.storageUrl).toBe(newest.outputImage?.storageUrl);
    const after = await served(scope, newest.outputImageId as string);
    expect(after).not.toEqual(before);
    expect(new Uint8Array(await (await api(data.outputImage?.url as string)).arrayBuffer())).toEqual(after);
    // Only the newest was regenerated.
    expect(await served(scope, older.outputImageId as string)).toEqual(olderBytes);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(spent + 1);
  });

  it("answers FLOW_NOT_FOUND for an unknown flow and GENERATION_NOT_FOUND for a flow of uploads only", async () => {
    const { key, flowId } = await projectWithFlow();
    await withDb((db) => db.execute(sql`update generations set deleted_at = now() where flow_id = ${flowId}`));
    const uploadsOnly = await readProblem(await api(`/api/v1/flows/${flowId}/regenerate`, { key: key.key, method: "POST" }));
    expect(uploadsOnly).toMatchObject({ status: 404, code: "GENERATION_NOT_FOUND", error: { code: "GENERATION_NOT_FOUND" } });
    const unknown = await readProblem(
      await api(`/api/v1/flows/${crypto.randomUUID()}/regenerate`, { key: key.key, method: "POST" }),
    );
    expect(unknown).toMatchObject({ status: 404, code: "FLOW_NOT_FOUND" });
  });
});

describe("another project's flow", () => {
  it("is FLOW_NOT_FOUND to every operation, and is left as it was", async () => {
    const { scope, key: owner, flowId, first } = await projectWithFlow();
    await setFlowAlias(scope.project.id, flowId, first.id, "@hero");
    const { key: stranger } = await freshProjectKey();
    const mine = await uploadInFlow(stranger.key, null);
    await withDb((db) => insertImageRow(db, scope, "uploads", { flowId }));

    const requests: [string, string, unknown?][] = [
      ["GET", `/api/v1/flows/${flowId}`],
      ["GET", `/api/v1/flows/${flowId}/generations`],
      ["GET", `/api/v1/flows/${flowId}/images`],
      ["DELETE", `/api/v1/flows/${flowId}/aliases/@hero`],
      ["POST", `/api/v1/flows/${flowId}/regenerate`],
      ["DELETE", `/api/v1/flows/${flowId}`],
    ];
    for (const [method, path] of requests) {
      const problem = await readProblem(await api(path, { key: stranger.key, method }));
      expect(problem, `${method} ${path}`).toMatchObject({ status: 404, code: "FLOW_NOT_FOUND" });
    }
    const listed = (await (await api("/api/v1/flows", { key: stranger.key })).json()) as ApiBody<"listFlows", 200>;
    expect(listed.data).toEqual([]);
    // A PUT with the stranger's own image makes a flow of the stranger's own: never the owner's.
    expect((await putAliases(stranger.key, flowId, { "@hero": mine.id })).status).toBe(200);

    expect(await flowOf(owner.key, flowId)).toMatchObject({ aliases: { "@hero": first.id }, imageCount: 3 });
    expect(await s3().head(first.storageKey)).not.toBeNull();
  });
});
