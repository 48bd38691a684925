import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import worker from "../src/index";
import type { GenerationMessage } from "../src/queue";
import { failStuckGenerations } from "../src/services/maintenance/stuck-generations";
import { api, fetchWorker, freshIp, readProblem, testEnv } from "./support/app";
import { quotaUsed, withDb } from "./support/fixtures";
import { download, fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";

const QUEUE = "banatie-generations";
const DEAD_LETTERS = "banatie-generations-dlq";

type V1Generation = ApiBody<"getGenerationV1", 200>["data"];

/** A stand-in for the producer binding that keeps what the request sent, for the test to deliver. */
function recordingQueue() {
  const sent: GenerationMessage[] = [];
  return { sent, binding: { send: async (body: GenerationMessage) => void sent.push(body) } as unknown as Queue };
}

/** POST /api/v1/generations with a Prefer header, its messages kept in `queue`. */
async function create(key: string, body: Record<string, unknown>, prefer: string | null, queue = recordingQueue()) {
  const response = await api("/api/v1/generations", {
    key,
    body,
    headers: prefer ? { Prefer: prefer } : {},
    env: { ...GEMINI_ENV, GENERATIONS_QUEUE: queue.binding },
  });
  return { response, queue };
}

/** Delivers messages to the Worker's queue() handler as the queue would, and says what it did with each. */
async function deliver(generationIds: string[], queueName = QUEUE, attempts = 1) {
  const batch = createMessageBatch<GenerationMessage>(
    queueName,
    generationIds.map((generationId, index) => ({
      id: `${generationId}-${index}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts,
      body: { generationId },
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...testEnv, ...GEMINI_ENV } as Env, ctx);
  return getQueueResult(batch, ctx);
}

async function read(key: string, id: string): Promise<V1Generation> {
  const response = await api(`/api/v1/generations/${id}`, { key });
  expect(response.status).toBe(200);
  return ((await response.json()) as ApiBody<"getGenerationV1", 200>).data;
}

async function row(id: string) {
  return withDb(async (db) => {
    const result = await db.execute<{ status: string; error_code: string | null; refunded_at: string | null }>(
      sql`select status, error_code, refunded_at from generations where id = ${id}`,
    );
    return result.rows[0];
  });
}

async function openReservations(keyId: string): Promise<number> {
  return withDb(
    async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from budget_reservations where key_id = ${keyId}`)).rows[0]
        ?.n ?? -1,
  );
}

async function withBudget(keyId: string) {
  await withDb((db) => db.execute(sql`update api_keys set monthly_budget_usd_micros = 50000000 where id = ${keyId}`));
}

async function accepted(response: Response): Promise<V1Generation> {
  expect(response.status).toBe(202);
  return ((await response.json()) as ApiBody<"createGenerationV1", 202>).data;
}

describe("POST /api/v1/generations with Prefer: respond-async", () => {
  it("answers 202 at once, pending, spends the quota and budget at acceptance, and the consumer takes it through each state", async () => {
    const { key } = await freshProjectKey();
    await withBudget(key.id);
    const tag = marker();
    const { response, queue } = await create(
      key.key,
      { prompt: `a lighthouse ${tag} [fake:delay=800]`, autoEnhance: false },
      "respond-async",
    );
    const generation = await accepted(response);
    expect(generation.status).toBe("pending");
    expect(generation.outputImage).toBeNull();
    expect(response.headers.get("location")).toBe(`/api/v1/generations/${generation.id}`);
    expect(response.headers.get("preference-applied")).toBe("respond-async");
    // Only the id travels on the queue.
    expect(queue.sent).toEqual([{ generationId: generation.id }]);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
    expect(await openReservations(key.id)).toBe(1);
    expect(await fakeRequests(tag)).toHaveLength(0);
    expect((await read(key.key, generation.id)).status).toBe("pending");

    const consuming = deliver([generation.id]);
    await vi.waitUntil(async () => (await read(key.key, generation.id)).status === "processing", { timeout: 5000, interval: 50 });
    const result = await consuming;
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);

    const done = await read(key.key, generation.id);
    expect(done.status).toBe("success");
    expect(done.errorCode).toBeNull();
    expect(done.outputImage?.width).toBeGreaterThan(0);
    expect(await fakeRequests(tag)).toHaveLength(1);
    // Settled to the actual cost, not refunded.
    await vi.waitUntil(async () => (await openReservations(key.id)) === 0, { timeout: 5000 });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("never generates twice: a redelivered or duplicated message finds the generation claimed", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const generation = await accepted(
      (await create(key.key, { prompt: `twice ${tag}`, autoEnhance: false }, "respond-async")).response,
    );
    const [first, again] = await Promise.all([deliver([generation.id, generation.id]), deliver([generation.id])]);
    expect([...first.explicitAcks, ...again.explicitAcks]).toHaveLength(3);
    const redelivered = await deliver([generation.id]);
    expect(redelivered.explicitAcks).toHaveLength(1);
    expect(await fakeRequests(tag)).toHaveLength(1);
    expect((await read(key.key, generation.id)).status).toBe("success");
  });

  it("retries a transient model failure from the queue, then succeeds", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    // GEMINI_MAX_ATTEMPTS is 3: the first delivery's three calls fail with 503.
    const generation = await accepted(
      (await create(key.key, { prompt: `flaky ${tag} [fake:fail-first=3]`, autoEnhance: false }, "respond-async")).response,
    );
    const first = await deliver([generation.id]);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.explicitAcks).toEqual([]);
    expect((await read(key.key, generation.id)).status).toBe("pending");
    const second = await deliver([generation.id], QUEUE, 2);
    expect(second.explicitAcks).toHaveLength(1);
    expect((await read(key.key, generation.id)).status).toBe("success");
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("marks a refused generation failed with its errorCode and refunds its quota and budget, once", async () => {
    const { key } = await freshProjectKey();
    await withBudget(key.id);
    const tag = marker();
    const generation = await accepted(
      (await create(key.key, { prompt: `refused ${tag} [fake:block=SAFETY]`, autoEnhance: false }, "respond-async")).response,
    );
    const result = await deliver([generation.id]);
    expect(result.explicitAcks).toHaveLength(1);
    const failed = await read(key.key, generation.id);
    expect(failed).toMatchObject({ status: "failed", errorCode: "CONTENT_BLOCKED" });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    await vi.waitUntil(async () => (await openReservations(key.id)) === 0, { timeout: 5000 });
    // A dead letter arriving afterwards changes nothing: no second refund.
    await deliver([generation.id], DEAD_LETTERS);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    expect((await read(key.key, generation.id)).errorCode).toBe("CONTENT_BLOCKED");
  });

  it("fails a generation whose message exhausted its retries (dead-letter queue) and refunds it", async () => {
    const { key } = await freshProjectKey();
    await withBudget(key.id);
    const tag = marker();
    const generation = await accepted((await create(key.key, { prompt: `dead ${tag}` }, "respond-async")).response);
    const result = await deliver([generation.id], DEAD_LETTERS);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await read(key.key, generation.id)).toMatchObject({ status: "failed", errorCode: "GENERATION_RETRIES_EXHAUSTED" });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    await vi.waitUntil(async () => (await openReservations(key.id)) === 0, { timeout: 5000 });
    // Its message, redelivered, is skipped: no model call.
    await deliver([generation.id]);
    expect(await fakeRequests(tag)).toHaveLength(0);
  });

  it("gives the image its alias and flow alias when it is made, moving the alias as a synchronous request does", async () => {
    const { key } = await freshProjectKey();
    const before = await create(key.key, { prompt: `first hero ${marker()}`, alias: "@hero" }, null);
    const previous = ((await before.response.json()) as ApiBody<"createGenerationV1", 201>).data;
    const flowId = crypto.randomUUID();
    const generation = await accepted(
      (await create(key.key, { prompt: `new hero ${marker()}`, alias: "@hero", flowId, flowAlias: "@cover" }, "respond-async"))
        .response,
    );
    await deliver([generation.id]);
    const made = await read(key.key, generation.id);
    expect(made.status).toBe("success");
    const aliases = await withDb(
      async (db) =>
        (
          await db.execute<{ alias: string; flow_id: string | null; image_id: string }>(
            sql`select alias, flow_id, image_id from image_aliases where alias in ('@hero', '@cover') and image_id in (${made.outputImageId}, ${previous.outputImageId})`,
          )
        ).rows,
    );
    expect(aliases).toEqual(
      expect.arrayContaining([
        { alias: "@hero", flow_id: null, image_id: made.outputImageId },
        { alias: "@cover", flow_id: flowId, image_id: made.outputImageId },
      ]),
    );
    expect(aliases).toHaveLength(2);
    const audited = await withDb(
      async (db) =>
        (
          await db.execute<{ n: number }>(
            sql`select count(*)::int as n from audit_events where action = 'alias.changed' and target_id = ${made.outputImageId}`,
          )
        ).rows[0]?.n,
    );
    expect(audited).toBeGreaterThanOrEqual(1);
  });

  it("sends the model the reference images resolved at acceptance", async () => {
    const { key } = await freshProjectKey();
    const before = await create(key.key, { prompt: `reference ${marker()}`, autoEnhance: false }, null);
    const reference = ((await before.response.json()) as ApiBody<"createGenerationV1", 201>).data;
    const tag = marker();
    const generation = await accepted(
      (
        await create(
          key.key,
          { prompt: `with a reference ${tag}`, referenceImages: [reference.outputImageId], autoEnhance: false },
          "respond-async",
        )
      ).response,
    );
    expect(generation.referencedImages).toEqual([{ imageId: reference.outputImageId, alias: null }]);
    await deliver([generation.id]);
    expect((await read(key.key, generation.id)).status).toBe("success");
    const [call] = await fakeRequests(tag);
    const images = call?.body.contents.flatMap((content) => content.parts).filter((part) => part.inlineData);
    expect(images).toHaveLength(1);
  });

  it("without a Prefer header answers 201 with the image as before and queues nothing", async () => {
    const { key } = await freshProjectKey();
    const { response, queue } = await create(key.key, { prompt: `sync ${marker()}` }, null);
    expect(response.status).toBe(201);
    expect(response.headers.get("preference-applied")).toBeNull();
    expect(response.headers.get("location")).toBeNull();
    expect(((await response.json()) as ApiBody<"createGenerationV1", 201>).data.status).toBe("success");
    expect(queue.sent).toEqual([]);
  });

  it("refuses a malformed wait with 400 naming Prefer, spending nothing", async () => {
    const { key } = await freshProjectKey();
    const { response, queue } = await create(key.key, { prompt: `bad wait ${marker()}` }, "respond-async, wait=61");
    expect(response.status).toBe(400);
    const problem = await readProblem(response);
    expect(problem.code).toBe("VALIDATION_ERROR");
    expect(problem.errors?.[0]?.field).toBe("Prefer");
    expect(queue.sent).toEqual([]);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });
});

describe("Prefer: wait=N", () => {
  it("answers 201 with the result when the generation ends within N seconds", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const queue = recordingQueue();
    const posting = create(key.key, { prompt: `quick ${tag}` }, "wait=10", queue);
    // The queue delivers the message while the request waits.
    await vi.waitUntil(() => queue.sent.length === 1, { timeout: 5000, interval: 20 });
    await deliver(queue.sent.map((message) => message.generationId));
    const { response } = await posting;
    expect(response.status).toBe(201);
    expect(response.headers.get("preference-applied")).toBe("wait=10");
    const data = ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
    expect(data.status).toBe("success");
    expect(data.outputImage).not.toBeNull();
  });

  it("answers 202, pending, when N seconds pass first", async () => {
    const { key } = await freshProjectKey();
    const { response, queue } = await create(key.key, { prompt: `slow ${marker()}` }, "wait=1");
    const generation = await accepted(response);
    expect(generation.status).toBe("pending");
    expect(response.headers.get("preference-applied")).toBe("wait=1");
    expect(queue.sent).toHaveLength(1);
  });
});

describe("POST /api/v1/generations/{id}/cancel", () => {
  it("cancels a pending generation: refunded once, and the consumer never runs it", async () => {
    const { key } = await freshProjectKey();
    await withBudget(key.id);
    const tag = marker();
    const generation = await accepted((await create(key.key, { prompt: `cancel me ${tag}` }, "respond-async")).response);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);

    const response = await api(`/api/v1/generations/${generation.id}/cancel`, { key: key.key, method: "POST" });
    expect(response.status).toBe(200);
    const canceled = ((await response.json()) as ApiBody<"cancelGenerationV1", 200>).data;
    expect(canceled).toMatchObject({ id: generation.id, status: "failed", errorCode: "GENERATION_CANCELED" });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    await vi.waitUntil(async () => (await openReservations(key.id)) === 0, { timeout: 5000 });

    const result = await deliver([generation.id]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await fakeRequests(tag)).toHaveLength(0);
    expect((await read(key.key, generation.id)).status).toBe("failed");

    const again = await api(`/api/v1/generations/${generation.id}/cancel`, { key: key.key, method: "POST" });
    expect(again.status).toBe(409);
    expect((await readProblem(again)).code).toBe("GENERATION_NOT_CANCELABLE");
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });

  it("lets a running one finish and discards it: 202, then failed with no image, its quota kept and nothing billed", async () => {
    const { key } = await freshProjectKey();
    await withBudget(key.id);
    const tag = marker();
    const generation = await accepted(
      (await create(key.key, { prompt: `running ${tag} [fake:delay=800]`, autoEnhance: false }, "respond-async")).response,
    );
    const consuming = deliver([generation.id]);
    await vi.waitUntil(async () => (await row(generation.id))?.status === "processing", { timeout: 5000, interval: 20 });
    const response = await api(`/api/v1/generations/${generation.id}/cancel`, { key: key.key, method: "POST" });
    expect(response.status).toBe(202);
    expect(((await response.json()) as ApiBody<"cancelGenerationV1", 202>).data.status).toBe("processing");
    const result = await consuming;
    expect(result.explicitAcks).toHaveLength(1);

    const discarded = await read(key.key, generation.id);
    expect(discarded).toMatchObject({ status: "failed", errorCode: "GENERATION_CANCELED", outputImage: null });
    expect(await fakeRequests(tag)).toHaveLength(1);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
    await vi.waitUntil(async () => (await openReservations(key.id)) === 0, { timeout: 5000 });
    const images = await withDb(
      async (db) =>
        (await db.execute<{ n: number }>(sql`select count(*)::int as n from images where generation_id = ${generation.id}`))
          .rows[0]?.n,
    );
    expect(images).toBe(0);

    const again = await api(`/api/v1/generations/${generation.id}/cancel`, { key: key.key, method: "POST" });
    expect(again.status).toBe(409);
    expect((await readProblem(again)).code).toBe("GENERATION_NOT_CANCELABLE");
  });

  it("refuses to cancel a generation that ended (409)", async () => {
    const { key } = await freshProjectKey();
    const { response } = await create(key.key, { prompt: `done ${marker()}` }, null);
    const made = ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
    const cancel = await api(`/api/v1/generations/${made.id}/cancel`, { key: key.key, method: "POST" });
    expect(cancel.status).toBe(409);
    expect((await readProblem(cancel)).code).toBe("GENERATION_NOT_CANCELABLE");
    expect((await read(key.key, made.id)).status).toBe("success");
  });

  it("does not find another project's generation (404)", async () => {
    const owner = await freshProjectKey();
    const other = await freshProjectKey();
    const generation = await accepted((await create(owner.key.key, { prompt: `mine ${marker()}` }, "respond-async")).response);
    const response = await api(`/api/v1/generations/${generation.id}/cancel`, { key: other.key.key, method: "POST" });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe("GENERATION_NOT_FOUND");
    expect((await row(generation.id))?.status).toBe("pending");
  });
});

describe("POST /api/text-to-image with Prefer: respond-async", () => {
  it("answers 202 with the generation's id, status and where to follow it", async () => {
    const { key } = await freshProjectKey();
    const queue = recordingQueue();
    const response = await api("/api/text-to-image", {
      key: key.key,
      body: { prompt: `tti ${marker()}` },
      headers: { Prefer: "respond-async" },
      env: { ...GEMINI_ENV, GENERATIONS_QUEUE: queue.binding },
    });
    expect(response.status).toBe(202);
    const data = ((await response.json()) as ApiBody<"textToImage", 202>).data;
    expect(data).toEqual({
      generationId: queue.sent[0]?.generationId,
      status: "pending",
      statusUrl: `/api/v1/generations/${data.generationId}`,
    });
    expect(response.headers.get("location")).toBe(data.statusUrl);
    await deliver([data.generationId]);
    expect((await read(key.key, data.generationId)).status).toBe("success");
  });
});

describe("POST /api/text-to-image with Prefer: wait=N", () => {
  /** Posts text-to-image with Prefer: wait=`seconds` and delivers its queued message; the answer. */
  async function waitedTextToImage(key: string, prompt: string, seconds: number) {
    const queue = recordingQueue();
    const posting = api("/api/text-to-image", {
      key,
      body: { prompt, autoEnhance: false },
      headers: { Prefer: `wait=${seconds}` },
      env: { ...GEMINI_ENV, GENERATIONS_QUEUE: queue.binding },
    });
    await vi.waitUntil(() => queue.sent.length === 1, { timeout: 5000, interval: 20 });
    const delivering = deliver(queue.sent.map((message) => message.generationId));
    const response = await posting;
    await delivering;
    return response;
  }

  it("answers 201 with what a synchronous text-to-image answers when the generation ends in time", async () => {
    const { key } = await freshProjectKey();
    const response = await waitedTextToImage(key.key, `tti wait ${marker()}`, 10);
    expect(response.status).toBe(201);
    expect(response.headers.get("preference-applied")).toBe("wait=10");
    const { data } = (await response.json()) as ApiBody<"textToImage", 201>;
    expect(response.headers.get("location")).toBe(`/api/v1/generations/${data.generationId}`);

    const sync = await api("/api/text-to-image", {
      key: key.key,
      body: { prompt: `tti sync ${marker()}`, autoEnhance: false },
      env: GEMINI_ENV,
    });
    expect(sync.status).toBe(201);
    const synchronous = ((await sync.json()) as ApiBody<"textToImage", 201>).data;
    expect(Object.keys(data).sort()).toEqual(Object.keys(synchronous).sort());
    expect(data).toMatchObject({
      format: synchronous.format,
      mimeType: synchronous.mimeType,
      width: synchronous.width,
      height: synchronous.height,
      aspectRatio: synchronous.aspectRatio,
      provider: synchronous.provider,
      model: synchronous.model,
      enhancement: null,
      attempts: 1,
    });
    expect(data.cost.usdMicros).toBe(synchronous.cost.usdMicros);
    expect((await read(key.key, data.generationId)).outputImageId).toBe(data.imageId);
    const { response: image, bytes } = await download(data.url);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe(data.mimeType);
    expect(bytes.byteLength).toBe(data.bytes);
  });

  it("answers 202 with where it stands when the generation outlasts the wait", async () => {
    const { key } = await freshProjectKey();
    const response = await waitedTextToImage(key.key, `tti slow ${marker()} [fake:delay=2500]`, 1);
    expect(response.status).toBe(202);
    expect(response.headers.get("preference-applied")).toBe("wait=1");
    const { data } = (await response.json()) as ApiBody<"textToImage", 202>;
    expect(data.status).toBe("processing");
    expect(data.statusUrl).toBe(`/api/v1/generations/${data.generationId}`);
  });

  it("answers the problem a synchronous request would when the generation failed in time", async () => {
    const { key } = await freshProjectKey();
    const response = await waitedTextToImage(key.key, `tti refused ${marker()} [fake:block=SAFETY]`, 10);
    expect(response.status).toBe(422);
    const problem = await readProblem(response);
    expect(problem.code).toBe("CONTENT_BLOCKED");

    const sync = await api("/api/text-to-image", {
      key: key.key,
      body: { prompt: `tti refused sync ${marker()} [fake:block=SAFETY]`, autoEnhance: false },
      env: GEMINI_ENV,
    });
    const synchronous = await readProblem(sync);
    expect(problem).toMatchObject({ status: synchronous.status, title: synchronous.title, detail: synchronous.detail });
  });
});

describe("the Worker's own queue", () => {
  it("delivers an accepted generation to the consumer, which runs it", async () => {
    const { key } = await freshProjectKey();
    const response = await fetchWorker("http://banatie.test/api/v1/generations", {
      method: "POST",
      headers: {
        "X-API-Key": key.key,
        "Content-Type": "application/json",
        Prefer: "respond-async",
        "CF-Connecting-IP": freshIp(),
      },
      body: JSON.stringify({ prompt: `through the queue ${marker()}` }),
    });
    const generation = await accepted(response);
    await vi.waitUntil(async () => (await row(generation.id))?.status === "succeeded", { timeout: 15_000, interval: 100 });
  });
});

describe("the stuck-generation sweep", () => {
  it("fails an asynchronous generation left processing (its consumer died) and refunds it", async () => {
    const { key } = await freshProjectKey();
    const generation = await accepted((await create(key.key, { prompt: `orphaned ${marker()}` }, "respond-async")).response);
    // Left processing two hours ago: the sweep then leaves the generations other tests are running alone.
    await withDb((db) =>
      db.execute(
        sql`update generations set status = 'processing', updated_at = now() - interval '2 hours' where id = ${generation.id}`,
      ),
    );
    const { failed } = await withDb((db) =>
      failStuckGenerations(db, { startedBefore: new Date(Date.now() - 3600_000), limit: 1000 }),
    );
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(await read(key.key, generation.id)).toMatchObject({ status: "failed", errorCode: "GENERATION_ABANDONED" });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });
});
