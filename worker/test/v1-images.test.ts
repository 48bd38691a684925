import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody, Schema } from "../../site/src/lib/api-contract";
import { MAX_META_BYTES } from "../src/domain/limits";
import { decodeImage, encodeImage } from "../src/images/codec";
import { api, readProblem } from "./support/app";
import { insertImageRow, quotaUsed, withDb } from "./support/fixtures";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile } from "./support/images";

type V1Image = Schema<"V1Image">;
type ResolvedImage = Schema<"ResolvedV1Image">;

/** POST /api/v1/images/upload as a client sends it: `curl -F file=@logo.png --form-string alias=@brand-logo`. */
async function uploadV1(key: string, fields: Record<string, string> = {}, bytes?: Uint8Array) {
  const form = formWith(bytes ?? (await imageFile("png", 80, 40)), "logo.png", fields, "image/png");
  const response = await api("/api/v1/images/upload", { key, form });
  const data = response.status === 201 ? ((await response.clone().json()) as ApiBody<"uploadV1Image", 201>).data : null;
  return { response, data };
}

async function uploaded(key: string, fields: Record<string, string> = {}): Promise<V1Image> {
  const { response, data } = await uploadV1(key, fields);
  if (!data) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return data;
}

async function getImage(key: string, ref: string, query = "") {
  const response = await api(`/api/v1/images/${ref}${query}`, { key });
  return { response, data: response.status === 200 ? ((await response.clone().json()) as { data: ResolvedImage }).data : null };
}

async function expectProblem(response: Response, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  const problem = await readProblem(response);
  expect(problem.code).toBe(code);
  expect(problem.error).toEqual({ code, message: problem.detail });
  if (field) expect(problem.errors?.map((error) => error.field)).toContain(field);
  return problem;
}

/** The project's `alias.changed` audit events (their metadata), in a stable order: one request's events share no order. */
async function aliasAudit(projectId: string): Promise<unknown[]> {
  return withDb(async (db) => {
    const result = await db.execute<{ metadata: unknown }>(
      sql`select metadata from audit_events where action = 'alias.changed' and project_id = ${projectId}`,
    );
    return sortedEvents(result.rows.map((row) => row.metadata));
  });
}

const sortedEvents = (events: unknown[]) =>
  events.map((event) => JSON.stringify(event, Object.keys(event as object).sort())).sort();

async function flowRows(projectId: string): Promise<string[]> {
  return withDb(async (db) => {
    const result = await db.execute<{ id: string }>(sql`select id from flows where project_id = ${projectId}`);
    return result.rows.map((row) => row.id);
  });
}

async function aliasRowsOf(imageId: string): Promise<number> {
  return withDb(async (db) => {
    const result = await db.execute<{ n: number }>(sql`select count(*)::int as n from image_aliases where image_id = ${imageId}`);
    return result.rows[0]?.n ?? -1;
  });
}

describe("POST /api/v1/images/upload", () => {
  it("stores Banatie's docs example (alias=@brand-logo as a form field) and answers with the v1 image", async () => {
    const { scope, key } = await freshProjectKey();
    const bytes = await imageFile("png", 80, 40);
    const { response, data } = await uploadV1(key.key, { alias: "@brand-logo" }, bytes);

    expect(response.status).toBe(201);
    expect(response.headers.get("x-ratelimit-remaining")).toBe("99");
    expect(data).toMatchObject({
      projectId: scope.project.id,
      source: "uploaded",
      alias: "@brand-logo",
      flowAliases: [],
      focalPoint: null,
      meta: {},
      mimeType: "image/png",
      fileSize: bytes.byteLength,
      width: 80,
      height: 40,
      generationId: null,
    });
    expect(data?.flowId).toMatch(/^[0-9a-f-]{36}$/);
    expect(data?.storageKey).toMatch(
      new RegExp(`^${scope.organization.slug}/${scope.project.slug}/uploads/[0-9a-f-]{36}\\.png$`),
    );
    expect(data?.storageUrl).toMatch(new RegExp(`/${scope.organization.slug}/${scope.project.slug}/img/${data?.id}$`));
    const stored = await api(new URL(data?.url ?? "").pathname);
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(bytes);

    const byAlias = await getImage(key.key, "@brand-logo");
    expect(byAlias.data?.id).toBe(data?.id);
    // The fresh flow is lazy: no row until it is used again.
    expect(await flowRows(scope.project.id)).toEqual([]);
  });

  it("gives a flow alias without a flowId to a fresh flow, written at once", async () => {
    const { scope, key } = await freshProjectKey();
    const image = await uploaded(key.key, { flowAlias: "@start" });
    expect(image.flowId).toMatch(/^[0-9a-f-]{36}$/);
    expect(image.flowAliases).toEqual(["@start"]);
    expect(await flowRows(scope.project.id)).toEqual([image.flowId]);
  });

  it("joins a named flow (writing its row), gives the flow alias and keeps meta", async () => {
    const { scope, key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const image = await uploaded(key.key, { flowId, flowAlias: "@hero", meta: JSON.stringify({ campaign: "spring" }) });

    expect(image).toMatchObject({ flowId, flowAliases: ["@hero"], alias: null, meta: { campaign: "spring" } });
    expect(await flowRows(scope.project.id)).toEqual([flowId]);
    const inFlow = await getImage(key.key, "@hero", `?flowId=${flowId}`);
    expect(inFlow.data?.resolution).toEqual({ alias: "@hero", scope: "flow", flowId });

    const outside = await uploaded(key.key, { flowId: "null" });
    expect(outside.flowId).toBeNull();
  });

  it("refuses a flow alias the flow already gives to another image (409), storing nothing", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    await uploaded(key.key, { flowId, flowAlias: "@hero" });

    const { response } = await uploadV1(key.key, { flowId, flowAlias: "@hero", alias: "@second" });
    await expectProblem(response, 409, "ALIAS_CONFLICT", "flowAlias");
    const list = (await (await api("/api/v1/images", { key: key.key })).json()) as ApiBody<"listV1Images", 200>;
    expect(list.pagination.total).toBe(1);
    expect((await getImage(key.key, "@second")).response.status).toBe(404);
  });

  it.each([
    ["an alias without @", { alias: "brand-logo" }, 400, "ALIAS_FORMAT_CHECK", "alias"],
    ["a reserved alias", { alias: "@Last" }, 400, "ALIAS_FORMAT_CHECK", "alias"],
    ["a bad flow alias", { flowAlias: "@no spaces" }, 400, "ALIAS_FORMAT_CHECK", "flowAlias"],
    ["a flow alias without a flow", { flowId: "null", flowAlias: "@hero" }, 400, "VALIDATION_ERROR", "flowAlias"],
    ["a flowId that is not a UUID", { flowId: "abc" }, 400, "VALIDATION_ERROR", "flowId"],
    ["meta that is not JSON", { meta: "{not json" }, 400, "VALIDATION_ERROR", "meta"],
    ["meta that is not an object", { meta: "[1,2]" }, 400, "VALIDATION_ERROR", "meta"],
    ["meta over the limit", { meta: JSON.stringify({ note: "x".repeat(MAX_META_BYTES) }) }, 400, "VALIDATION_ERROR", "meta"],
  ])("refuses %s before spending quota, storing nothing", async (_, fields, status, code, field) => {
    const { key } = await freshProjectKey();
    const { response } = await uploadV1(key.key, fields);
    await expectProblem(response, status, code, field);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    const list = (await (await api("/api/v1/images", { key: key.key })).json()) as ApiBody<"listV1Images", 200>;
    expect(list.pagination.total).toBe(0);
  });

  it("checks the file exactly like /api/upload", async () => {
    const { key } = await freshProjectKey();
    const text = new TextEncoder().encode("not an image at all, just text");
    const { response } = await uploadV1(key.key, { alias: "@doc" }, text);
    await expectProblem(response, 415, "UNSUPPORTED_FILE_TYPE");
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });

  it("moves a project alias to the newer upload, and the audit trail says so", async () => {
    const { scope, key } = await freshProjectKey();
    const first = await uploaded(key.key, { alias: "@logo" });
    const second = await uploaded(key.key, { alias: "@logo" });

    const resolved = await getImage(key.key, "@logo");
    expect(resolved.data?.id).toBe(second.id);
    expect(resolved.data?.resolution).toEqual({ alias: "@logo", scope: "project", flowId: null });
    expect((await getImage(key.key, first.id)).data?.alias).toBeNull();
    expect(await aliasAudit(scope.project.id)).toEqual(
      sortedEvents([
        { alias: "@logo", scope: "project", flowId: null, fromImageId: null, toImageId: first.id },
        { alias: "@logo", scope: "project", flowId: null, fromImageId: first.id, toImageId: second.id },
      ]),
    );
  });
});

describe("GET /api/v1/images/{id} and /resolve/{alias}", () => {
  it("finds an image by id (no resolution), by @alias and through resolve", async () => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key, { alias: "@brand-logo" });

    const byId = await getImage(key.key, image.id);
    expect(byId.data).toMatchObject({ id: image.id, alias: "@brand-logo", resolution: null });
    const resolved = await api("/api/v1/images/resolve/@brand-logo", { key: key.key });
    expect(resolved.status).toBe(200);
    expect(((await resolved.json()) as { data: ResolvedImage }).data).toMatchObject({
      id: image.id,
      resolution: { alias: "@brand-logo", scope: "project", flowId: null },
    });
    // A percent-encoded @ is the same alias.
    expect((await getImage(key.key, "%40brand-logo")).data?.id).toBe(image.id);
  });

  it("resolves technical aliases within a flow, and says a flow is needed without one", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const image = await uploaded(key.key, { flowId });

    const upload = await getImage(key.key, "@upload", `?flowId=${flowId}`);
    expect(upload.data).toMatchObject({ id: image.id, resolution: { alias: "@upload", scope: "technical", flowId } });
    const problem = await expectProblem((await getImage(key.key, "@upload")).response, 404, "IMAGE_NOT_FOUND");
    expect(problem.detail).toContain("flowId");
  });

  it("answers 400 ALIAS_FORMAT_CHECK for a reference that is neither, and 404 for an unknown one", async () => {
    const { key } = await freshProjectKey();
    await expectProblem((await getImage(key.key, "not-an-alias")).response, 400, "ALIAS_FORMAT_CHECK", "id");
    await expectProblem(
      await api(`/api/v1/images/resolve/${crypto.randomUUID()}`, { key: key.key }),
      400,
      "ALIAS_FORMAT_CHECK",
      "alias",
    );
    await expectProblem((await getImage(key.key, "@nobody")).response, 404, "IMAGE_NOT_FOUND");
    await expectProblem((await getImage(key.key, crypto.randomUUID())).response, 404, "IMAGE_NOT_FOUND");
  });

  it("never shows another project's image, by id or by alias", async () => {
    const owner = await freshProjectKey();
    const other = await freshProjectKey();
    const image = await uploaded(owner.key.key, { alias: "@secret" });
    const key = other.key.key;

    await expectProblem((await getImage(key, image.id)).response, 404, "IMAGE_NOT_FOUND");
    await expectProblem((await getImage(key, "@secret")).response, 404, "IMAGE_NOT_FOUND");
    await expectProblem(await api("/api/v1/images/resolve/@secret", { key }), 404, "IMAGE_NOT_FOUND");
    await expectProblem(
      await api(`/api/v1/images/${image.id}`, { key, method: "PUT", body: { meta: { x: 1 } } }),
      404,
      "IMAGE_NOT_FOUND",
    );
    await expectProblem(
      await api(`/api/v1/images/${image.id}/alias`, { key, method: "PUT", body: { alias: "@mine" } }),
      404,
      "IMAGE_NOT_FOUND",
    );
    await expectProblem(await api(`/api/v1/images/${image.id}`, { key, method: "DELETE" }), 404, "IMAGE_NOT_FOUND");
    const list = (await (await api("/api/v1/images?alias=@secret", { key })).json()) as ApiBody<"listV1Images", 200>;
    expect(list.data).toEqual([]);
    // The owner's image is untouched.
    expect((await getImage(owner.key.key, "@secret")).data).toMatchObject({ id: image.id, meta: {} });
  });
});

describe("PUT /api/v1/images/{id}", () => {
  it("sets the focal point and replaces meta, by id or @alias, without spending quota", async () => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key, { alias: "@hero", meta: JSON.stringify({ a: 1 }) });

    const put = (ref: string, body: unknown) => api(`/api/v1/images/${ref}`, { key: key.key, method: "PUT", body });
    const focal = await put("@hero", { focalPoint: { x: 0.2, y: 0.9 } });
    expect(focal.status).toBe(200);
    expect(((await focal.json()) as { data: V1Image }).data).toMatchObject({ focalPoint: { x: 0.2, y: 0.9 }, meta: { a: 1 } });

    const meta = await put(image.id, { meta: { b: "two" } });
    expect(((await meta.json()) as { data: V1Image }).data).toMatchObject({ focalPoint: { x: 0.2, y: 0.9 }, meta: { b: "two" } });

    const cleared = await put(image.id, { focalPoint: null });
    expect(((await cleared.json()) as { data: V1Image }).data.focalPoint).toBeNull();
    expect((await getImage(key.key, image.id)).data).toMatchObject({ focalPoint: null, meta: { b: "two" } });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it.each([
    ["x above 1", { focalPoint: { x: 1.5, y: 0.5 } }, "focalPoint.x"],
    ["y below 0", { focalPoint: { x: 0.5, y: -0.1 } }, "focalPoint.y"],
    ["a missing y", { focalPoint: { x: 0.5 } }, "focalPoint.y"],
    ["meta over the limit", { meta: { note: "x".repeat(MAX_META_BYTES) } }, "meta"],
    ["meta that is not an object", { meta: "text" }, "meta"],
    ["an unknown field", { alias: "@x" }, "body"],
  ])("refuses %s, changing nothing", async (_, body, field) => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key, { meta: JSON.stringify({ kept: true }) });
    const response = await api(`/api/v1/images/${image.id}`, { key: key.key, method: "PUT", body });
    const problem = await expectProblem(response, 400, "VALIDATION_ERROR");
    if (field !== "body") expect(problem.errors?.map((error) => error.field)).toContain(field);
    expect((await getImage(key.key, image.id)).data).toMatchObject({ focalPoint: null, meta: { kept: true } });
  });

  it("refuses an empty change", async () => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key);
    await expectProblem(
      await api(`/api/v1/images/${image.id}`, { key: key.key, method: "PUT", body: {} }),
      400,
      "VALIDATION_ERROR",
    );
  });
});

describe("the focal point in transformations", () => {
  /** A 512x256 PNG, red on the left half and blue on the right. */
  async function halfRedHalfBlue(): Promise<Uint8Array> {
    const width = 512;
    const height = 256;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const red = i % width < width / 2;
      data.set(red ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
    }
    return (await encodeImage({ data, width, height }, "png")).bytes;
  }

  /** The thumbnail (a 256x256 cover crop) of the image's stable URL, and the colours of its left and right edges, mid-height. */
  async function thumbnail(url: string) {
    const response = await api(`${new URL(url).pathname}?preset=thumbnail&format=png`);
    expect(response.status).toBe(200);
    const image = await decodeImage(new Uint8Array(await response.arrayBuffer()), 1_000_000);
    const at = (x: number) => {
      const offset = (Math.floor(image.height / 2) * image.width + x) * 4;
      return image.data[offset] === 255 && image.data[offset + 2] === 0
        ? "red"
        : image.data[offset + 2] === 255
          ? "blue"
          : "mixed";
    };
    return { etag: response.headers.get("etag"), left: at(2), right: at(image.width - 3) };
  }

  it("is the default gravity of cover crops: a thumbnail moves with it", async () => {
    const { key } = await freshProjectKey();
    const { data: image } = await uploadV1(key.key, { alias: "@banner" }, await halfRedHalfBlue());
    if (!image) throw new Error("upload failed");
    const setFocal = (focalPoint: { x: number; y: number } | null) =>
      api("/api/v1/images/@banner", { key: key.key, method: "PUT", body: { focalPoint } });

    const centred = await thumbnail(image.storageUrl);
    expect(centred).toMatchObject({ left: "red", right: "blue" });

    expect((await setFocal({ x: 0, y: 0.5 })).status).toBe(200);
    const onTheLeft = await thumbnail(image.storageUrl);
    expect(onTheLeft).toMatchObject({ left: "red", right: "red" });
    expect(onTheLeft.etag).not.toBe(centred.etag);

    await setFocal({ x: 1, y: 0.5 });
    expect(await thumbnail(image.storageUrl)).toMatchObject({ left: "blue", right: "blue" });

    await setFocal(null);
    expect(await thumbnail(image.storageUrl)).toMatchObject({ left: "red", right: "blue", etag: centred.etag });
  });
});

describe("PUT /api/v1/images/{id}/alias", () => {
  it("gives, moves and removes the project alias, each change audited", async () => {
    const { scope, key } = await freshProjectKey();
    const first = await uploaded(key.key);
    const second = await uploaded(key.key);
    const setAlias = (id: string, alias: string | null) =>
      api(`/api/v1/images/${id}/alias`, { key: key.key, method: "PUT", body: { alias } });

    const given = await setAlias(first.id, "@hero-background");
    expect(given.status).toBe(200);
    expect(((await given.json()) as { data: V1Image }).data.alias).toBe("@hero-background");
    expect((await getImage(key.key, "@hero-background")).data?.id).toBe(first.id);

    await setAlias(second.id, "@hero-background");
    expect((await getImage(key.key, "@hero-background")).data?.id).toBe(second.id);
    expect((await getImage(key.key, first.id)).data?.alias).toBeNull();

    // A new alias replaces the image's old one: an image has at most one project alias.
    await setAlias(second.id, "@renamed");
    expect((await getImage(key.key, second.id)).data?.alias).toBe("@renamed");
    await expectProblem((await getImage(key.key, "@hero-background")).response, 404, "IMAGE_NOT_FOUND");

    const removed = await setAlias(second.id, null);
    expect(((await removed.json()) as { data: V1Image }).data.alias).toBeNull();
    await expectProblem((await getImage(key.key, "@renamed")).response, 404, "IMAGE_NOT_FOUND");
    const change = (alias: string, fromImageId: string | null, toImageId: string | null) => ({
      alias,
      scope: "project",
      flowId: null,
      fromImageId,
      toImageId,
    });
    expect(await aliasAudit(scope.project.id)).toEqual(
      sortedEvents([
        change("@hero-background", null, first.id),
        change("@hero-background", first.id, second.id),
        change("@hero-background", second.id, null),
        change("@renamed", null, second.id),
        change("@renamed", second.id, null),
      ]),
    );
  });

  it.each([
    ["no @", "hero"],
    ["a reserved name", "@first"],
    ["too long", `@${"a".repeat(50)}`],
  ])("refuses an alias with %s (ALIAS_FORMAT_CHECK)", async (_, alias) => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key, { alias: "@kept" });
    const response = await api(`/api/v1/images/${image.id}/alias`, { key: key.key, method: "PUT", body: { alias } });
    await expectProblem(response, 400, "ALIAS_FORMAT_CHECK", "alias");
    expect((await getImage(key.key, image.id)).data?.alias).toBe("@kept");
  });

  it("answers 404 for an unknown image", async () => {
    const { key } = await freshProjectKey();
    const response = await api(`/api/v1/images/${crypto.randomUUID()}/alias`, {
      key: key.key,
      method: "PUT",
      body: { alias: "@x" },
    });
    await expectProblem(response, 404, "IMAGE_NOT_FOUND");
  });
});

describe("DELETE /api/v1/images/{id}", () => {
  it("deletes the object and the row, and clears every alias naming the image", async () => {
    const { key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const image = await uploaded(key.key, { alias: "@doomed", flowId, flowAlias: "@in-flow" });
    expect(await aliasRowsOf(image.id)).toBe(2);

    const response = await api(`/api/v1/images/${image.id}`, { key: key.key, method: "DELETE" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as ApiBody<"deleteV1Image", 200>).data).toEqual({ id: image.id, deleted: true });

    expect(await aliasRowsOf(image.id)).toBe(0);
    await expectProblem((await getImage(key.key, "@doomed")).response, 404, "IMAGE_NOT_FOUND");
    await expectProblem((await getImage(key.key, "@in-flow", `?flowId=${flowId}`)).response, 404, "IMAGE_NOT_FOUND");
    await expectProblem((await getImage(key.key, image.id)).response, 404, "IMAGE_NOT_FOUND");
    expect((await api(new URL(image.url).pathname)).status).toBe(404);
    // The alias is free again.
    expect((await uploaded(key.key, { alias: "@doomed" })).alias).toBe("@doomed");
    await expectProblem(await api(`/api/v1/images/${image.id}`, { key: key.key, method: "DELETE" }), 404, "IMAGE_NOT_FOUND");
  });

  it("the existing DELETE /api/images/{id} clears aliases too", async () => {
    const { key } = await freshProjectKey();
    const image = await uploaded(key.key, { alias: "@old-route" });
    expect((await api(`/api/images/${image.id}`, { key: key.key, method: "DELETE" })).status).toBe(200);
    expect(await aliasRowsOf(image.id)).toBe(0);
  });
});

describe("GET /api/v1/images", () => {
  it("pages by offset with total and hasMore, filters by source, alias and flow, and lists deleted on request", async () => {
    const { scope, key } = await freshProjectKey();
    const flowId = crypto.randomUUID();
    const generated = await withDb(async (db) => [
      await insertImageRow(db, scope, "generated", { createdAt: new Date(Date.now() - 60_000) }),
      await insertImageRow(db, scope, "generated", { createdAt: new Date(Date.now() - 50_000), flowId }),
    ]);
    const plain = await uploaded(key.key, { flowId: "null" });
    const aliased = await uploaded(key.key, { alias: "@pick", flowId });
    const flowAliased = await uploaded(key.key, { flowId, flowAlias: "@pick" });
    const list = async (query: string) => {
      const response = await api(`/api/v1/images${query}`, { key: key.key });
      expect(response.status).toBe(200);
      return (await response.json()) as ApiBody<"listV1Images", 200>;
    };
    const ids = (page: ApiBody<"listV1Images", 200>) => page.data.map((image) => image.id);

    const all = await list("");
    expect(ids(all)).toEqual([flowAliased.id, aliased.id, plain.id, generated[1], generated[0]]);
    expect(all.pagination).toEqual({ total: 5, limit: 20, offset: 0, hasMore: false });

    const firstPage = await list("?limit=2");
    expect(ids(firstPage)).toEqual([flowAliased.id, aliased.id]);
    expect(firstPage.pagination).toEqual({ total: 5, limit: 2, offset: 0, hasMore: true });
    const lastPage = await list("?limit=2&offset=4");
    expect(ids(lastPage)).toEqual([generated[0]]);
    expect(lastPage.pagination).toEqual({ total: 5, limit: 2, offset: 4, hasMore: false });
    expect((await list("?offset=10")).pagination).toEqual({ total: 5, limit: 20, offset: 10, hasMore: false });

    expect(ids(await list("?source=generated"))).toEqual([generated[1], generated[0]]);
    expect(ids(await list("?source=uploaded"))).toEqual([flowAliased.id, aliased.id, plain.id]);
    expect(ids(await list("?alias=@pick"))).toEqual([aliased.id]);
    expect(ids(await list(`?alias=@pick&flowId=${flowId}`))).toEqual([flowAliased.id]);
    expect(ids(await list(`?flowId=${flowId}`))).toEqual([flowAliased.id, aliased.id, generated[1]]);
    expect(ids(await list(`?flowId=${flowId}&source=generated`))).toEqual([generated[1]]);

    await api(`/api/v1/images/${plain.id}`, { key: key.key, method: "DELETE" });
    expect(ids(await list("?source=uploaded"))).toEqual([flowAliased.id, aliased.id]);
    const withDeleted = await list("?source=uploaded&includeDeleted=true");
    expect(ids(withDeleted)).toEqual([flowAliased.id, aliased.id, plain.id]);
    expect(withDeleted.data[2]?.deletedAt).toEqual(expect.any(String));
    expect(withDeleted.data[0]?.deletedAt).toBeUndefined();
  });

  it.each([
    ["?limit=101", "VALIDATION_ERROR", "limit"],
    ["?limit=0", "VALIDATION_ERROR", "limit"],
    ["?offset=-1", "VALIDATION_ERROR", "offset"],
    ["?source=references", "VALIDATION_ERROR", "source"],
    ["?flowId=abc", "VALIDATION_ERROR", "flowId"],
    ["?alias=pick", "ALIAS_FORMAT_CHECK", "alias"],
  ])("refuses %s", async (query, code, field) => {
    const { key } = await freshProjectKey();
    await expectProblem(await api(`/api/v1/images${query}`, { key: key.key }), 400, code, field);
  });
});
