import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { generateApiKey } from "../src/domain/api-key";
import { api, readProblem } from "./support/app";
import { createProject, insertKey, type TestKey, withDb } from "./support/fixtures";

let master: TestKey;
let project: TestKey;

beforeAll(async () => {
  [master, project] = await withDb(async (db) => {
    const scope = await createProject(db);
    return [await insertKey(db, { type: "master" }), await insertKey(db, { type: "project", scope, revokedAt: new Date() })];
  });
});

async function events(query: string): Promise<ApiBody<"listAuditEvents", 200>> {
  const response = await api(`/api/admin/audit${query}`, { key: master.key });
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

describe("GET /api/admin/audit", () => {
  it("records failed authentication with reason, client and key prefix, never the key", async () => {
    const made = await generateApiKey("project");
    const unknown = await api("/api/me", { key: made.plaintext, ip: "192.0.2.44", headers: { "User-Agent": "curl/8.5" } });
    expect(unknown.status).toBe(401);
    await unknown.body?.cancel();
    const revoked = await api("/api/me", { key: project.key, ip: "192.0.2.45" });
    expect(revoked.status).toBe(401);
    await revoked.body?.cancel();

    const failures = (await events("?action=auth.failed&limit=100")).data;
    const unknownEvent = failures.find((event) => event.ip === "192.0.2.44");
    expect(unknownEvent).toMatchObject({
      userAgent: "curl/8.5",
      metadata: { reason: "unknown", prefix: made.displayPrefix, path: "/api/me" },
    });
    expect(JSON.stringify(failures)).not.toContain(made.plaintext.slice(13));

    const revokedEvents = (await events(`?action=auth.failed&keyId=${project.id}`)).data;
    expect(revokedEvents).toHaveLength(1);
    expect(revokedEvents[0]).toMatchObject({ ip: "192.0.2.45", targetId: project.id, metadata: { reason: "revoked" } });
  });

  it("lists newest first with stable pages, filtered by action, key and time", async () => {
    const startedAt = new Date(Date.now() - 1000).toISOString();
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await api("/api/admin/keys", { key: master.key, body: { type: "master", name: `audit ${i}` } });
      created.push(((await response.json()) as ApiBody<"createApiKey", 201>).data.id);
    }

    const mine = await events(`?action=key.created&keyId=${master.id}&from=${encodeURIComponent(startedAt)}&limit=2`);
    expect(mine.data.map((event) => event.targetId)).toEqual([created[2], created[1]]);
    for (const event of mine.data) expect(event.actorKeyId).toBe(master.id);
    const rest = await events(
      `?action=key.created&keyId=${master.id}&from=${encodeURIComponent(startedAt)}&limit=2&cursor=${mine.pagination.nextCursor}`,
    );
    expect(rest.data.map((event) => event.targetId)).toEqual([created[0]]);
    expect(rest.pagination.nextCursor).toBeNull();

    const timestamps = [...mine.data, ...rest.data].map((event) => Date.parse(event.createdAt));
    expect([...timestamps].sort((a, b) => b - a)).toEqual(timestamps);

    const before = await events(`?action=key.created&keyId=${master.id}&to=${encodeURIComponent(startedAt)}`);
    expect(before.data).toEqual([]);
  });

  it("rejects invalid filters", async () => {
    const response = await api("/api/admin/audit?action=everything&from=yesterday", { key: master.key });
    const problem = await readProblem(response);
    expect(response.status).toBe(400);
    expect(problem.errors?.map((error) => error.field).sort()).toEqual(["action", "from"]);
  });
});
