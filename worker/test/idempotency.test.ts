import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/domain/hash";
import { IDEMPOTENCY_RECORDS_PRUNED_PER_RUN } from "../src/domain/limits";
import { IDEMPOTENT_OPERATIONS } from "../src/routes/shared/idempotency";
import { requestFingerprint } from "../src/services/idempotency";
import { openAnswer, sealAnswer } from "../src/services/idempotency-seal";
import { pruneIdempotencyRecords } from "../src/services/maintenance/pruning";
import { api, callApp, freshIp, readProblem } from "./support/app";
import { createProject, insertKey, quotaUsed, setQuotaUsed, withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";
import { formWith, imageFile } from "./support/images";

/** The image model's calls for prompts containing `tag` (the prompt enhancer is off in these tests). */
async function modelCalls(tag: string): Promise<number> {
  return (await fakeRequests(tag)).length;
}

function textToImage(key: string, idempotencyKey: string | undefined, prompt: string) {
  return api("/api/text-to-image", {
    key,
    body: { prompt, autoEnhance: false },
    env: GEMINI_ENV,
    headers: idempotencyKey === undefined ? {} : { "Idempotency-Key": idempotencyKey },
  });
}

async function generationRows(apiKeyId: string): Promise<number> {
  return withDb(async (db) => {
    const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from generations where api_key_id = ${apiKeyId}`);
    return rows.rows[0]?.n ?? 0;
  });
}

async function record(apiKeyId: string, key: string) {
  return withDb(async (db) => {
    const rows = await db.execute<{ status: string; response_status: number | null }>(
      sql`select status, response_status from idempotency_keys where api_key_id = ${apiKeyId} and key = ${key}`,
    );
    return rows.rows[0];
  });
}

describe("Idempotency-Key on a generation", () => {
  it("replays the first answer with Idempotent-Replayed: true, calling no model and spending no quota", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const first = await textToImage(key.key, "retry-1", `a lighthouse ${tag}`);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.text();

    const again = await textToImage(key.key, "retry-1", `a lighthouse ${tag}`);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
    // The replay is a request of its own in the logs.
    expect(again.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    expect(await again.text()).toBe(firstBody);

    expect(await modelCalls(tag)).toBe(1);
    expect(await generationRows(key.id)).toBe(1);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("gives 20 concurrent requests with one key exactly one generation and one model call", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    // The first holds the key for a while, so the others arrive while it runs.
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => textToImage(key.key, "burst", `a harbour [fake:delay=400] ${tag}`)),
    );
    const statuses = responses.map((response) => response.status);
    const fresh = responses.filter((response) => response.status === 201 && !response.headers.has("idempotent-replayed"));
    expect(fresh).toHaveLength(1);
    for (const response of responses) {
      if (response.status === 409) expect((await readProblem(response)).code).toBe("IDEMPOTENCY_IN_PROGRESS");
      else expect(response.status).toBe(201);
    }
    expect(statuses.filter((status) => status === 409).length).toBeGreaterThan(0);
    expect(await modelCalls(tag)).toBe(1);
    expect(await generationRows(key.id)).toBe(1);
    // Only the request that ran spent a request of the quota.
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("answers 409 IDEMPOTENCY_IN_PROGRESS while the first request runs, then replays it", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const prompt = `a slow ship [fake:delay=900] ${tag}`;
    const first = textToImage(key.key, "slow", prompt);
    // Wait until the first request holds the key.
    for (let i = 0; i < 100 && (await record(key.id, "slow")) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await record(key.id, "slow")).toMatchObject({ status: "in_progress" });

    const during = await textToImage(key.key, "slow", prompt);
    expect(during.status).toBe(409);
    const problem = await readProblem(during);
    expect(problem.code).toBe("IDEMPOTENCY_IN_PROGRESS");
    expect(during.headers.get("retry-after")).toBe("1");

    expect((await first).status).toBe(201);
    const after = await textToImage(key.key, "slow", prompt);
    expect(after.status).toBe(201);
    expect(after.headers.get("idempotent-replayed")).toBe("true");
    expect(await modelCalls(tag)).toBe(1);
  });

  it("refuses the same key with another body (422) and keeps keys of different API keys apart", async () => {
    const { scope, key } = await freshProjectKey();
    const other = await withDb((db) => insertKey(db, { type: "project", scope }));
    const tag = marker();
    expect((await textToImage(key.key, "shared", `a fox ${tag}`)).status).toBe(201);

    const changed = await textToImage(key.key, "shared", `a wolf ${tag}`);
    expect(changed.status).toBe(422);
    const problem = await readProblem(changed);
    expect(problem.code).toBe("IDEMPOTENCY_MISMATCH");
    expect(problem.detail).toContain("Idempotency-Key");

    // The same Idempotency-Key from another API key is another record: it runs.
    const fromOther = await textToImage(other.key, "shared", `a wolf ${tag}`);
    expect(fromOther.status).toBe(201);
    expect(fromOther.headers.get("idempotent-replayed")).toBeNull();
    expect(await modelCalls(tag)).toBe(2);
  });

  it("refuses a malformed key with 400 naming the header, spending nothing", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    for (const bad of ['""', "k".repeat(256), "bad\u007fkey"]) {
      const response = await textToImage(key.key, bad, `a bad key ${tag}`);
      expect(response.status).toBe(400);
      const problem = await readProblem(response);
      expect(problem.code).toBe("VALIDATION_ERROR");
      expect(problem.errors?.[0]?.field).toBe("Idempotency-Key");
    }
    // 255 characters, and the draft's quoted form, are keys.
    expect((await textToImage(key.key, "k".repeat(255), `a long key ${tag}`)).status).toBe(201);
    const quoted = await textToImage(key.key, '"k\\"q"', `a quoted key ${tag}`);
    expect(quoted.status).toBe(201);
    expect(await record(key.id, 'k"q')).toMatchObject({ status: "done", response_status: 201 });
    expect(await modelCalls(tag)).toBe(2);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(2);
  });

  it("keeps no answer of a request refused before it ran (the hourly quota), so a retry runs", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    await withDb((db) => setQuotaUsed(db, key.id, 100));
    const refused = await textToImage(key.key, "over-quota", `a quota ${tag}`);
    expect(refused.status).toBe(429);
    expect(await record(key.id, "over-quota")).toBeUndefined();

    await withDb((db) => db.execute(sql`delete from rate_limit_windows where api_key_id = ${key.id}`));
    const retried = await textToImage(key.key, "over-quota", `a quota ${tag}`);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
  });

  it("stores and replays an answer the handler failed with, as Stripe does", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const failed = await textToImage(key.key, "refused", `[fake:status=400] a refused prompt ${tag}`);
    const again = await textToImage(key.key, "refused", `[fake:status=400] a refused prompt ${tag}`);
    expect(again.status).toBe(failed.status);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await failed.text());
    expect(await modelCalls(tag)).toBe(1);
  });

  it("lets a retry take over a key whose request ended without an answer, once its lock ran out", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const prompt = `an abandoned claim ${tag}`;
    // A first request that claimed the key and then vanished (its isolate evicted) with no answer.
    const body = await sha256Hex(JSON.stringify({ prompt, autoEnhance: false }));
    const fingerprint = await requestFingerprint("POST", "/api/text-to-image", body);
    await withDb((db) =>
      db.execute(sql`
        insert into idempotency_keys (api_key_id, key, fingerprint, locked_until, expires_at)
        values (${key.id}, 'vanished', ${fingerprint}, now() + interval '1 hour', now() + interval '24 hours')
      `),
    );
    expect((await textToImage(key.key, "vanished", prompt)).status).toBe(409);
    await withDb((db) =>
      db.execute(sql`update idempotency_keys set locked_until = now() - interval '1 second' where api_key_id = ${key.id}`),
    );
    const retried = await textToImage(key.key, "vanished", prompt);
    expect(retried.status).toBe(201);
    expect(await record(key.id, "vanished")).toMatchObject({ status: "done", response_status: 201 });
    expect(await modelCalls(tag)).toBe(1);
  });

  it("runs a request again once its key's record expired (24 h), and the maintenance prunes expired records", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    expect((await textToImage(key.key, "old", `a first ${tag}`)).status).toBe(201);
    // A day passes for this record.
    await withDb((db) =>
      db.execute(sql`update idempotency_keys set expires_at = now() - interval '1 second' where api_key_id = ${key.id}`),
    );
    const later = await textToImage(key.key, "old", `another body ${tag}`);
    expect(later.status).toBe(201);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(await modelCalls(tag)).toBe(2);

    // An expired record of another key, and the live one above.
    await textToImage(key.key, "to-prune", `pruned ${tag}`);
    await withDb((db) =>
      db.execute(
        sql`update idempotency_keys set expires_at = now() - interval '1 hour' where api_key_id = ${key.id} and key = 'to-prune'`,
      ),
    );
    const { deleted } = await withDb((db) =>
      pruneIdempotencyRecords(db, { expiredBefore: new Date(), limit: IDEMPOTENCY_RECORDS_PRUNED_PER_RUN }),
    );
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await record(key.id, "to-prune")).toBeUndefined();
    expect(await record(key.id, "old")).toMatchObject({ status: "done" });
  });
});

describe("Idempotency-Key on uploads, key creation and quotes", () => {
  it("replays an upload: one stored image", async () => {
    const { scope, key } = await freshProjectKey();
    // A retry sends the same bytes: a multipart body is compared as received, boundary included.
    const serialized = new Response(formWith(await imageFile("png"), "a.png"));
    const contentType = serialized.headers.get("content-type") as string;
    const body = new Uint8Array(await serialized.arrayBuffer());
    const send = () =>
      callApp("/api/upload", {
        method: "POST",
        body,
        headers: {
          "X-API-Key": key.key,
          "Content-Type": contentType,
          "Idempotency-Key": "upload-1",
          "CF-Connecting-IP": freshIp(),
        },
      });
    const first = await send();
    expect(first.status).toBe(201);
    const again = await send();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    const rows = await withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from images where project_id = ${scope.project.id}`),
    );
    expect(rows.rows[0]?.n).toBe(1);

    // Another file under the same key is another request.
    const other = await api("/api/upload", {
      key: key.key,
      form: formWith(await imageFile("png", 32, 32), "a.png"),
      headers: { "Idempotency-Key": "upload-1" },
    });
    expect(other.status).toBe(422);
  });

  it("replays a v1 generation and its regeneration: one model call each", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const post = (path: string, idempotencyKey: string, body?: unknown) =>
      api(path, { method: "POST", key: key.key, body, env: GEMINI_ENV, headers: { "Idempotency-Key": idempotencyKey } });
    const created = await post("/api/v1/generations", "v1-create", { prompt: `a kite ${tag}`, autoEnhance: false });
    expect(created.status).toBe(201);
    const createdBody = await created.text();
    const again = await post("/api/v1/generations", "v1-create", { prompt: `a kite ${tag}`, autoEnhance: false });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(createdBody);
    expect(await generationRows(key.id)).toBe(1);

    const { id } = (JSON.parse(createdBody) as { data: { id: string } }).data;
    const regenerated = await post(`/api/v1/generations/${id}/regenerate`, "v1-regenerate");
    expect(regenerated.status).toBe(200);
    const replayed = await post(`/api/v1/generations/${id}/regenerate`, "v1-regenerate");
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(await replayed.text()).toBe(await regenerated.text());
    // The same key on another path is another request.
    expect((await post("/api/v1/generations", "v1-regenerate", { prompt: `a kite ${tag}` })).status).toBe(422);
    expect(await modelCalls(tag)).toBe(2);
  });

  it("replays a key creation: one key made", async () => {
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const name = `idem-${crypto.randomUUID()}`;
    const send = () =>
      api("/api/admin/keys", {
        key: master.key,
        body: { type: "master", name },
        headers: { "Idempotency-Key": "create-key" },
      });
    const first = await send();
    expect(first.status).toBe(201);
    const again = await send();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
    const rows = await withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from api_keys where name = ${name}`),
    );
    expect(rows.rows[0]?.n).toBe(1);
  });

  it("ignores the header on a quote, which spends nothing", async () => {
    const scope = await withDb((db) => createProject(db));
    const key = await withDb((db) => insertKey(db, { type: "project", scope }));
    const response = await api("/api/quotes", {
      key: key.key,
      body: { prompt: "a quote" },
      headers: { "Idempotency-Key": "" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const rows = await withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from idempotency_keys where api_key_id = ${key.id}`),
    );
    expect(rows.rows[0]?.n).toBe(0);
  });
});

/** The record's whole row as PostgreSQL prints it: what a dump of the database holds. */
async function rawRecord(apiKeyId: string, key: string): Promise<string> {
  return withDb(async (db) => {
    const rows = await db.execute<{ raw: string }>(
      sql`select row_to_json(i)::text as raw from idempotency_keys i where api_key_id = ${apiKeyId} and key = ${key}`,
    );
    return rows.rows[0]?.raw ?? "";
  });
}

describe("Idempotency-Key records at rest", () => {
  it("keeps a created key's plaintext out of the database, and the replay still shows it", async () => {
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const name = `sealed-${crypto.randomUUID()}`;
    const send = () =>
      api("/api/admin/keys", {
        key: master.key,
        body: { type: "master", name },
        headers: { "Idempotency-Key": "sealed-key" },
      });
    const first = await send();
    expect(first.status).toBe(201);
    const firstBody = await first.text();
    const { apiKey } = (JSON.parse(firstBody) as { data: { apiKey: string } }).data;
    expect(apiKey).toMatch(/^bnt_/);

    const raw = await rawRecord(master.id, "sealed-key");
    expect(raw).toContain('"status":"done"');
    expect(raw).toContain('"response_sealed":"v1.');
    expect(raw).not.toContain(apiKey);
    expect(raw).not.toContain(apiKey.slice(-16));

    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
    const againBody = await again.text();
    expect(againBody).toBe(firstBody);
    expect((JSON.parse(againBody) as { data: { apiKey: string } }).data.apiKey).toBe(apiKey);
  });

  it("keeps a generation's answer (its image URL, its prompt) out of the database", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const first = await textToImage(key.key, "sealed-generation", `a sealed jar ${tag}`);
    expect(first.status).toBe(201);
    const firstBody = await first.text();
    const { url } = (JSON.parse(firstBody) as { data: { url: string } }).data;
    const raw = await rawRecord(key.id, "sealed-generation");
    expect(raw).toContain('"response_status":201');
    expect(raw).not.toContain(new URL(url).pathname);
    expect(raw).not.toContain(tag);

    const again = await textToImage(key.key, "sealed-generation", `a sealed jar ${tag}`);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(firstBody);
  });

  it("refuses a replay whose stored answer cannot be opened (altered, or an unknown scheme) with 422, running nothing", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const prompt = `an altered record ${tag}`;
    expect((await textToImage(key.key, "altered", prompt)).status).toBe(201);
    const sealed = await withDb(async (db) => {
      const rows = await db.execute<{ response_sealed: string }>(
        sql`select response_sealed from idempotency_keys where api_key_id = ${key.id} and key = 'altered'`,
      );
      return rows.rows[0]?.response_sealed ?? "";
    });
    // One character of the ciphertext changed, then a scheme this version does not know.
    const last = sealed.length - 6;
    const altered = `${sealed.slice(0, last)}${sealed[last] === "A" ? "B" : "A"}${sealed.slice(last + 1)}`;
    for (const stored of [altered, `v2.${sealed.slice(3)}`]) {
      await withDb((db) =>
        db.execute(sql`update idempotency_keys set response_sealed = ${stored} where api_key_id = ${key.id} and key = 'altered'`),
      );
      const retried = await textToImage(key.key, "altered", prompt);
      expect(retried.status).toBe(422);
      const problem = await readProblem(retried);
      expect(problem.code).toBe("IDEMPOTENCY_MISMATCH");
      expect(problem.detail).toContain("cannot be read");
    }
    expect(await modelCalls(tag)).toBe(1);
    expect(await generationRows(key.id)).toBe(1);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("seals under the presented API key: another key, key id or Idempotency-Key cannot open it", async () => {
    const scope = { presentedKey: "bnt_pk_presented", apiKeyId: crypto.randomUUID(), idempotencyKey: "k-1" };
    const parts = { headers: { "content-type": "application/json" }, body: '{"apiKey":"bnt_pk_secret"}' };
    const sealed = await sealAnswer(parts, scope);
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(sealed).not.toContain("bnt_pk_secret");
    // A random IV per record: the same answer never seals the same way twice.
    expect(await sealAnswer(parts, scope)).not.toBe(sealed);
    expect(await openAnswer(sealed, scope)).toEqual(parts);
    expect(await openAnswer(sealed, { ...scope, presentedKey: "bnt_pk_other" })).toBeUndefined();
    expect(await openAnswer(sealed, { ...scope, apiKeyId: crypto.randomUUID() })).toBeUndefined();
    expect(await openAnswer(sealed, { ...scope, idempotencyKey: "k-2" })).toBeUndefined();
  });
});

describe("Idempotency-Key in the OpenAPI document", () => {
  it("is declared on exactly the POSTs that spend or create, with the 409 and 422 it answers", async () => {
    const document = (await (await api("/api/openapi.json")).json()) as {
      paths: Record<
        string,
        Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: object }>
      >;
    };
    const declaring = Object.values(document.paths)
      .flatMap((operations) => Object.values(operations))
      .filter((operation) => operation.parameters?.some((p) => p.in === "header" && p.name === "Idempotency-Key"));
    expect(declaring.map((operation) => operation.operationId).sort()).toEqual([...IDEMPOTENT_OPERATIONS].sort());
    for (const operation of declaring) expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["409", "422"]));
  });
});
