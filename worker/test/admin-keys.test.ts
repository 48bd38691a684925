import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, readProblem } from "./support/app";
import { insertKey, type TestKey, uniqueSlug, withDb } from "./support/fixtures";

type KeyList = ApiBody<"listApiKeys", 200>;

let master: TestKey;
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  master = await withDb((db) => insertKey(db, { type: "master" }));
});

async function createKey(body: Record<string, unknown>) {
  const response = await api("/api/admin/keys", { key: master.key, body, ip: "192.0.2.20" });
  return { response, json: (await response.json()) as ApiBody<"createApiKey", 201> };
}

describe("POST /api/admin/keys", () => {
  it("creates a project key, creating its organization and project on first use, shown once", async () => {
    const organizationSlug = uniqueSlug("acme");
    const projectSlug = uniqueSlug("shop");
    const { response, json } = await createKey({ type: "project", name: "Shop backend", organizationSlug, projectSlug });

    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const key = json.data;
    expect(key.apiKey).toMatch(/^bnt_pk_/);
    expect(key).toMatchObject({
      type: "project",
      name: "Shop backend",
      status: "active",
      rateLimitPerHour: 100,
      revokedAt: null,
    });
    expect(key.organization?.slug).toBe(organizationSlug);
    expect(key.project?.slug).toBe(projectSlug);
    expect(Math.abs(Date.parse(key.expiresAt ?? "") - (Date.now() + 90 * DAY))).toBeLessThan(60_000);

    // The same slugs again reuse the organization and project.
    const again = await createKey({ type: "project", name: "Second", organizationSlug, projectSlug });
    expect(again.json.data.project?.id).toBe(key.project?.id);

    const me = await api("/api/me", { key: key.apiKey });
    const { data } = (await me.json()) as ApiBody<"getMe", 200>;
    expect(me.status).toBe(200);
    expect(data.project?.slug).toBe(projectSlug);
    expect(data.quota.remaining).toBe(100);
  });

  it("puts project keys in the default organization unless told otherwise, and takes a project by id", async () => {
    const { json } = await createKey({ type: "project", name: "Default org", projectSlug: uniqueSlug("site") });
    expect(json.data.organization?.slug).toBe("default");

    const byId = await createKey({ type: "project", name: "By id", projectId: json.data.project?.id });
    expect(byId.response.status).toBe(201);
    expect(byId.json.data.project).toEqual(json.data.project);
  });

  it("takes projectId and organizationId as the user wrote them, slugs as the README shows", async () => {
    // The README's first project key, as Banatie's own client sends it.
    const projectId = uniqueSlug("my-project");
    const created = await createKey({ type: "project", projectId, name: "My Project Key" });
    expect(created.response.status).toBe(201);
    expect(created.json.data).toMatchObject({ organization: { slug: "default" }, project: { slug: projectId } });

    // The same slug again is the same project, and an organization slug works in organizationId.
    const again = await createKey({ type: "project", projectId, name: "Second key" });
    expect(again.json.data.project).toEqual(created.json.data.project);
    const organizationId = uniqueSlug("acme");
    const scoped = await createKey({ type: "project", organizationId, projectId, name: "Acme key" });
    expect(scoped.response.status).toBe(201);
    expect(scoped.json.data.organization?.slug).toBe(organizationId);
    expect(scoped.json.data.project?.slug).toBe(projectId);
    expect(scoped.json.data.project?.id).not.toBe(created.json.data.project?.id);

    // A UUID still means the project with that id.
    const byUuid = await createKey({ type: "project", projectId: created.json.data.project?.id, name: "By uuid" });
    expect(byUuid.json.data.project).toEqual(created.json.data.project);

    // The key filter takes the slug too.
    const listed = await api(`/api/admin/keys?projectId=${projectId}&organizationId=default`, { key: master.key });
    const { data } = (await listed.json()) as KeyList;
    expect(listed.status).toBe(200);
    expect(data.map((key) => key.id).sort()).toEqual([created.json.data.id, again.json.data.id, byUuid.json.data.id].sort());
  });

  it("creates master keys that never expire unless asked, and honours expiry and quota overrides", async () => {
    const forever = await createKey({ type: "master", name: "Ops" });
    expect(forever.json.data).toMatchObject({ type: "master", expiresAt: null, organization: null, project: null });
    expect(forever.json.data.apiKey).toMatch(/^bnt_mk_/);

    const custom = await createKey({
      type: "project",
      name: "Short",
      projectSlug: uniqueSlug("p"),
      expiresInDays: 7,
      rateLimitPerHour: 500,
    });
    expect(custom.json.data.rateLimitPerHour).toBe(500);
    expect(Math.abs(Date.parse(custom.json.data.expiresAt ?? "") - (Date.now() + 7 * DAY))).toBeLessThan(60_000);

    const never = await createKey({ type: "project", name: "Never", projectSlug: uniqueSlug("p"), expiresInDays: null });
    expect(never.json.data.expiresAt).toBeNull();
  });

  it("rejects bad input naming the field, creating nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: "master", name: "x", projectSlug: "shop" }, "projectSlug"],
      [{ type: "project", name: "x" }, "projectSlug"],
      [{ type: "project", name: "x", projectSlug: "Bad Slug!" }, "projectSlug"],
      [{ type: "project", name: "x", projectSlug: crypto.randomUUID() }, "projectSlug"],
      [{ type: "project", name: "x", projectId: "ok", organizationSlug: crypto.randomUUID() }, "organizationSlug"],
      [{ type: "project", name: "x", projectSlug: "ok", projectId: crypto.randomUUID() }, "projectSlug"],
      [{ type: "project", name: "x", projectId: "Not A Slug!" }, "projectId"],
      [{ type: "project", name: "x", projectSlug: "ok", organizationId: "UPPER" }, "organizationId"],
      [{ type: "project", name: "", projectSlug: "ok" }, "name"],
      [{ type: "robot", name: "x" }, "type"],
      [{ type: "master", name: "x", expiresInDays: 0 }, "expiresInDays"],
      [{ type: "master", name: "x", rateLimitPerHour: -5 }, "rateLimitPerHour"],
      [{ type: "master", name: "x", ratelimit: 5 }, ""],
    ];
    for (const [body, field] of cases) {
      const response = await api("/api/admin/keys", { key: master.key, body });
      const problem = await readProblem(response);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(problem.code).toBe("VALIDATION_ERROR");
      if (field) expect(problem.errors?.map((error) => error.field)).toContain(field);
    }
    const missing = await api("/api/admin/keys", {
      key: master.key,
      body: { type: "project", name: "x", projectId: crypto.randomUUID() },
    });
    expect(missing.status).toBe(404);
    expect((await readProblem(missing)).code).toBe("PROJECT_NOT_FOUND");
    const missingOrganization = await api("/api/admin/keys", {
      key: master.key,
      body: { type: "project", name: "x", organizationId: crypto.randomUUID(), projectId: "shop" },
    });
    expect(missingOrganization.status).toBe(404);
    expect((await readProblem(missingOrganization)).code).toBe("ORGANIZATION_NOT_FOUND");

    // Other test files create keys in parallel, so count only what this master key created.
    const ours = await withDb(
      async (db) =>
        (
          await db.execute<{ n: number }>(
            sql`select count(*)::int as n from api_keys where created_by = ${master.id} and name = 'x'`,
          )
        ).rows[0]?.n,
    );
    expect(ours).toBe(0);
  });
});

describe("GET /api/admin/keys", () => {
  it("lists keys with status and scope, filters by project and status, and never shows a key or hash", async () => {
    const projectSlug = uniqueSlug("listing");
    const first = (await createKey({ type: "project", name: "one", projectSlug })).json.data;
    const second = (await createKey({ type: "project", name: "two", projectSlug })).json.data;
    await api(`/api/admin/keys/${first.id}`, { method: "DELETE", key: master.key, body: { reason: "rotated" } });

    const response = await api(`/api/admin/keys?projectId=${first.project?.id}`, { key: master.key });
    const text = await response.text();
    const { data, pagination } = JSON.parse(text) as KeyList;
    expect(data.map((key) => key.id)).toEqual([second.id, first.id]);
    expect(data[1]).toMatchObject({ status: "revoked", revokedReason: "rotated" });
    expect(data[0]).toMatchObject({ status: "active", prefix: second.prefix, project: second.project });
    expect(pagination.hasMore).toBe(false);
    for (const secret of [first.apiKey, second.apiKey]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(data[0]).not.toHaveProperty("apiKey");
    expect(data[0]).not.toHaveProperty("keyHash");

    const active = await api(`/api/admin/keys?projectSlug=${projectSlug}&organizationSlug=default&status=active`, {
      key: master.key,
    });
    expect(((await active.json()) as KeyList).data.map((key) => key.id)).toEqual([second.id]);
  });

  it("pages with a cursor without repeating or skipping keys", async () => {
    const projectSlug = uniqueSlug("paging");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createKey({ type: "project", name: `k${i}`, projectSlug })).json.data.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/admin/keys?projectSlug=${projectSlug}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await (await api(query, { key: master.key })).json()) as KeyList;
      seen.push(...page.data.map((key) => key.id));
      cursor = page.pagination.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
  });

  it("rejects an invalid filter", async () => {
    const response = await api("/api/admin/keys?status=sleeping&limit=1000", { key: master.key });
    const problem = await readProblem(response);
    expect(response.status).toBe(400);
    expect(problem.errors?.map((error) => error.field).sort()).toEqual(["limit", "status"]);
  });
});

describe("DELETE /api/admin/keys/{id}", () => {
  it("revokes a key so that its very next request fails, and records who did it", async () => {
    const created = (await createKey({ type: "project", name: "to revoke", projectSlug: uniqueSlug("rev") })).json.data;
    const before = await api("/api/me", { key: created.apiKey });
    expect(before.status).toBe(200);
    await before.body?.cancel();

    const revoked = await api(`/api/admin/keys/${created.id}`, {
      method: "DELETE",
      key: master.key,
      body: { reason: "leaked in a screenshot" },
      ip: "192.0.2.30",
    });
    const { data } = (await revoked.json()) as ApiBody<"revokeApiKey", 200>;
    expect(revoked.status).toBe(200);
    expect(data).toMatchObject({ status: "revoked", revokedReason: "leaked in a screenshot" });

    const after = await api("/api/me", { key: created.apiKey });
    expect(after.status).toBe(401);
    expect((await readProblem(after)).code).toBe("REVOKED_API_KEY");

    const audit = await api(`/api/admin/audit?keyId=${created.id}&action=key.revoked`, { key: master.key });
    const events = ((await audit.json()) as ApiBody<"listAuditEvents", 200>).data;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorKeyId: master.id, ip: "192.0.2.30", metadata: { reason: "leaked in a screenshot" } });
  });

  it("answers 404 for an unknown key and 400 for an id that is not one", async () => {
    const unknown = await api(`/api/admin/keys/${crypto.randomUUID()}`, { method: "DELETE", key: master.key });
    expect(unknown.status).toBe(404);
    expect((await readProblem(unknown)).code).toBe("API_KEY_NOT_FOUND");

    const invalid = await api("/api/admin/keys/not-a-uuid", { method: "DELETE", key: master.key });
    expect(invalid.status).toBe(400);
    expect((await readProblem(invalid)).errors?.[0]?.field).toBe("id");
  });

  it("keeps last_used_at current without writing on every request", async () => {
    const created = (await createKey({ type: "project", name: "usage", projectSlug: uniqueSlug("use") })).json.data;
    expect(created.lastUsedAt).toBeNull();
    await (await api("/api/me", { key: created.apiKey })).body?.cancel();
    const lastUsed = async () =>
      withDb(
        async (db) =>
          (
            await db.execute<{ t: number | null }>(
              sql`select (extract(epoch from last_used_at) * 1000)::float8 as t from api_keys where id = ${created.id}`,
            )
          ).rows[0]?.t,
      );
    const first = await lastUsed();
    expect(Math.abs((first ?? 0) - Date.now())).toBeLessThan(60_000);
    await (await api("/api/me", { key: created.apiKey })).body?.cancel();
    expect(await lastUsed()).toBe(first);
  });
});
