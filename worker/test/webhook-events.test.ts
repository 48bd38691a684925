import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { createDatabase } from "../src/db/client";
import worker from "../src/index";
import type { GenerationMessage } from "../src/queue";
import { failStuckGenerations } from "../src/services/maintenance/stuck-generations";
import { api, readProblem, testEnv } from "./support/app";
import { quotaUsed, withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";
import { consumeOnce, freshInbox, inboxUrl, receivedBy, recordingQueue, scriptInbox } from "./support/webhooks";

const ALL_EVENTS = ["generation.started", "generation.succeeded", "generation.failed"];

interface Delivered {
  type: string;
  timestamp: string;
  data: { id: string; status: string; imageUrl: string | null; costUsdMicros: number | null; errorCode: string | null };
}

/** A project whose webhook endpoint is a fresh inbox of the test receiver, with a signing secret. */
async function projectWithEndpoint(base: string, events = ALL_EVENTS) {
  const { scope, key } = await freshProjectKey();
  const inbox = freshInbox(base);
  const saved = await api("/api/v1/webhooks", { key: key.key, method: "PUT", body: { url: inboxUrl(inbox), events } });
  expect(saved.status, await saved.clone().text()).toBe(200);
  const rotated = await api("/api/v1/webhooks/secret", { key: key.key, method: "POST" });
  expect(rotated.status).toBe(201);
  const { secret } = ((await rotated.json()) as ApiBody<"rotateWebhookSecret", 201>).data;
  return { projectId: scope.project.id, key, inbox, secret };
}

/** The bindings a request and the generations consumer get: Gemini's fake, and webhooks kept for the test to deliver. */
function bindings() {
  const webhooks = recordingQueue();
  const generations: GenerationMessage[] = [];
  const env = {
    ...GEMINI_ENV,
    WEBHOOK_QUEUE: webhooks as unknown as Queue,
    GENERATIONS_QUEUE: { send: async (body: GenerationMessage) => void generations.push(body) } as unknown as Queue,
  };
  return { env, webhooks, generations };
}

/** Runs the Worker's queue() handler on the generations queue, as the queue would deliver them. */
async function runGenerations(env: Record<string, unknown>, generationIds: string[], queueName = "banatie-generations") {
  const batch = createMessageBatch<GenerationMessage>(
    queueName,
    generationIds.map((generationId) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts: 1,
      body: { generationId },
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...testEnv, ...env } as Env, ctx);
  return getQueueResult(batch, ctx);
}

/** Hands every queued webhook to the webhooks consumer, as the queue would. */
async function deliverWebhooks(webhooks: ReturnType<typeof recordingQueue>) {
  for (const message of webhooks.sent.splice(0)) {
    const db = createDatabase({ databaseUrl: testEnv.DATABASE_URL, databaseHttpEndpoint: testEnv.DATABASE_HTTP_ENDPOINT });
    expect((await consumeOnce({ db, environment: "test" }, message)).acked).toBe(1);
  }
}

/** What the inbox received, each verified with the project's secret by the standardwebhooks library, in event order. */
async function verifiedEvents(inbox: string, secret: string): Promise<Delivered[]> {
  const requests = await receivedBy(inbox);
  const events = requests.map((request) => new Webhook(secret).verify(request.body, request.headers) as Delivered);
  for (const request of requests) expect(request.body.length).toBeLessThan(600);
  return events.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

async function createAsync(key: string, body: Record<string, unknown>, env: Record<string, unknown>) {
  const response = await api("/api/v1/generations", { key, body, headers: { Prefer: "respond-async" }, env });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as ApiBody<"createGenerationV1", 202>).data;
}

describe("an asynchronous generation's webhooks", () => {
  it("deliver generation.started, then generation.succeeded with the image URL and cost, signed and small", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("async");
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `a lighthouse ${marker()}`, autoEnhance: false }, env);
    expect(webhooks.sent).toEqual([]);
    expect((await runGenerations(env, [generation.id])).explicitAcks).toHaveLength(1);
    expect(webhooks.sent).toHaveLength(2);
    await deliverWebhooks(webhooks);

    const read = await api(`/api/v1/generations/${generation.id}`, { key: key.key });
    const made = ((await read.json()) as ApiBody<"getGenerationV1", 200>).data;
    const [started, succeeded, ...rest] = await verifiedEvents(inbox, secret);
    expect(rest).toEqual([]);
    expect(started).toMatchObject({
      type: "generation.started",
      data: { id: generation.id, status: "processing", imageUrl: null, costUsdMicros: null, errorCode: null },
    });
    expect(succeeded).toMatchObject({
      type: "generation.succeeded",
      data: {
        id: generation.id,
        status: "success",
        imageUrl: made.outputImage?.url,
        costUsdMicros: made.cost.usdMicros,
        errorCode: null,
      },
    });
    expect(succeeded?.data.imageUrl).toMatch(/^http.*\.png$/);
    expect(succeeded?.data.costUsdMicros).toBeGreaterThan(0);
    expect(Object.keys(succeeded?.data ?? {}).sort()).toEqual(["costUsdMicros", "errorCode", "id", "imageUrl", "status"]);
  });

  it("deliver generation.failed with the error code when the model refuses", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("refused");
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `refused ${marker()} [fake:block=SAFETY]`, autoEnhance: false }, env);
    await runGenerations(env, [generation.id]);
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => event.type)).toEqual(["generation.started", "generation.failed"]);
    expect(events[1]?.data).toEqual({
      id: generation.id,
      status: "failed",
      imageUrl: null,
      costUsdMicros: 0,
      errorCode: "CONTENT_BLOCKED",
    });
  });

  it("deliver generation.failed with GENERATION_CANCELED when it is canceled before it starts", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("canceled");
    const { env, webhooks } = bindings();
    const tag = marker();
    const generation = await createAsync(key.key, { prompt: `cancel me ${tag}` }, env);
    const cancel = await api(`/api/v1/generations/${generation.id}/cancel`, { key: key.key, method: "POST", env });
    expect(cancel.status).toBe(200);
    await runGenerations(env, [generation.id]);
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => [event.type, event.data.errorCode])).toEqual([["generation.failed", "GENERATION_CANCELED"]]);
    expect(await fakeRequests(tag)).toHaveLength(0);
  });

  it("deliver generation.failed with GENERATION_RETRIES_EXHAUSTED for a dead letter", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("dead-letter");
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `dead ${marker()}` }, env);
    await runGenerations(env, [generation.id], "banatie-generations-dlq");
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => [event.type, event.data.errorCode])).toEqual([
      ["generation.failed", "GENERATION_RETRIES_EXHAUSTED"],
    ]);
  });

  it("deliver generation.failed with GENERATION_ABANDONED when the maintenance fails one left processing", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("abandoned");
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `orphaned ${marker()}` }, env);
    await withDb((db) =>
      db.execute(
        sql`update generations set status = 'processing', updated_at = now() - interval '2 hours' where id = ${generation.id}`,
      ),
    );
    const db = createDatabase({ databaseUrl: testEnv.DATABASE_URL, databaseHttpEndpoint: testEnv.DATABASE_HTTP_ENDPOINT });
    await failStuckGenerations(db, { startedBefore: new Date(Date.now() - 3600_000), limit: 1000 }, webhooks);
    await deliverWebhooks(webhooks);
    // The scheduled maintenance of a test file running alongside may have failed it first: its
    // event then comes through the Worker's own webhooks queue.
    await vi.waitUntil(async () => (await receivedBy(inbox)).length > 0, { timeout: 4000, interval: 100 });
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => [event.type, event.data.id, event.data.errorCode])).toEqual([
      ["generation.failed", generation.id, "GENERATION_ABANDONED"],
    ]);
  });

  it("send only the events webhookEvents names", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("filtered");
    const { env, webhooks } = bindings();
    const generation = await createAsync(
      key.key,
      { prompt: `only the end ${marker()}`, webhookEvents: ["generation.succeeded"] },
      env,
    );
    await runGenerations(env, [generation.id]);
    await deliverWebhooks(webhooks);
    expect((await verifiedEvents(inbox, secret)).map((event) => event.type)).toEqual(["generation.succeeded"]);
  });

  it("go to the request's own webhook, and not to the project's endpoint", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("project");
    const own = freshInbox("own");
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `my own hook ${marker()}`, webhook: inboxUrl(own) }, env);
    await runGenerations(env, [generation.id]);
    await deliverWebhooks(webhooks);
    expect((await verifiedEvents(own, secret)).map((event) => event.type)).toEqual([
      "generation.started",
      "generation.succeeded",
    ]);
    expect(await receivedBy(inbox)).toEqual([]);
  });

  it("do not disable the project's endpoint when the request's own webhook answers 410", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("gone-own");
    const own = freshInbox("gone");
    await scriptInbox(own, [{ status: 410 }, { status: 410 }]);
    const { env, webhooks } = bindings();
    const generation = await createAsync(key.key, { prompt: `gone ${marker()}`, webhook: inboxUrl(own) }, env);
    await runGenerations(env, [generation.id]);
    await deliverWebhooks(webhooks);
    const settings = await api("/api/v1/webhooks", { key: key.key });
    expect(((await settings.json()) as ApiBody<"getWebhookSettings", 200>).data.enabled).toBe(true);
    const next = await createAsync(key.key, { prompt: `after ${marker()}` }, env);
    await runGenerations(env, [next.id]);
    await deliverWebhooks(webhooks);
    expect((await verifiedEvents(inbox, secret)).map((event) => event.data.id)).toEqual([next.id, next.id]);
  });
});

describe("a request's webhook URL", () => {
  it("is refused with 400 naming webhook when Banatie would not send to it, spending nothing", async () => {
    for (const webhook of [
      "https://10.0.0.1/hook",
      "file:///etc/passwd",
      "https://169.254.169.254/latest",
      "ftp://example.com/x",
    ]) {
      const { key } = await freshProjectKey();
      const { env, webhooks, generations } = bindings();
      const tag = marker();
      for (const [path, prefer] of [
        ["/api/v1/generations", "respond-async"],
        ["/api/v1/generations", null],
        ["/api/text-to-image", "respond-async"],
      ] as const) {
        const response = await api(path, {
          key: key.key,
          body: { prompt: `nowhere ${tag}`, webhook },
          headers: prefer ? { Prefer: prefer } : {},
          env,
        });
        expect(response.status, `${path} ${webhook}`).toBe(400);
        const problem = await readProblem(response);
        expect(problem.code).toBe("VALIDATION_ERROR");
        expect(problem.errors?.map((error) => error.field)).toEqual(["webhook"]);
      }
      expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
      const rows = await withDb(
        async (db) =>
          (await db.execute<{ n: number }>(sql`select count(*)::int as n from generations where api_key_id = ${key.id}`)).rows[0]
            ?.n,
      );
      expect(rows).toBe(0);
      expect(generations).toEqual([]);
      expect(webhooks.sent).toEqual([]);
      expect(await fakeRequests(tag)).toHaveLength(0);
    }
  });
});

describe("a synchronous generation's webhooks", () => {
  it("deliver generation.succeeded (and no generation.started) to the project's endpoint", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("sync");
    const { env, webhooks } = bindings();
    const response = await api("/api/v1/generations", { key: key.key, body: { prompt: `sync ${marker()}` }, env });
    expect(response.status).toBe(201);
    const made = ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "generation.succeeded",
      data: { id: made.id, status: "success", imageUrl: made.outputImage?.url, costUsdMicros: made.cost.usdMicros },
    });
  });

  it("deliver generation.failed with the error code from POST /api/text-to-image, to the request's own webhook", async () => {
    const { key, inbox, secret } = await projectWithEndpoint("sync-own");
    const own = freshInbox("sync-own");
    const { env, webhooks } = bindings();
    const response = await api("/api/text-to-image", {
      key: key.key,
      body: { prompt: `refused ${marker()} [fake:block=SAFETY]`, autoEnhance: false, webhook: inboxUrl(own) },
      env,
    });
    expect(response.status).toBe(422);
    await response.body?.cancel();
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(own, secret);
    expect(events.map((event) => [event.type, event.data.status, event.data.errorCode])).toEqual([
      ["generation.failed", "failed", "CONTENT_BLOCKED"],
    ]);
    expect(await receivedBy(inbox)).toEqual([]);
  });
});

describe("a regeneration's webhooks", () => {
  /** A synchronous generation of a project with a webhook endpoint, its own event already dropped. */
  async function generated(base: string) {
    const endpoint = await projectWithEndpoint(base);
    const { env, webhooks } = bindings();
    const response = await api("/api/v1/generations", {
      key: endpoint.key.key,
      body: { prompt: `to regenerate ${marker()}`, autoEnhance: false },
      env,
    });
    expect(response.status).toBe(201);
    const made = ((await response.json()) as ApiBody<"createGenerationV1", 201>).data;
    webhooks.sent.splice(0);
    return { ...endpoint, env, webhooks, made };
  }

  it("deliver generation.succeeded for the same generation from POST /api/v1/generations/{id}/regenerate", async () => {
    const { key, inbox, secret, env, webhooks, made } = await generated("regen");
    const response = await api(`/api/v1/generations/${made.id}/regenerate`, { key: key.key, method: "POST", env });
    expect(response.status, await response.clone().text()).toBe(200);
    const regenerated = ((await response.json()) as ApiBody<"regenerateGenerationV1", 200>).data;
    await deliverWebhooks(webhooks);
    // The cost is the generation's, as GET shows it: every run of it, this one included.
    const read = await api(`/api/v1/generations/${made.id}`, { key: key.key });
    const now = ((await read.json()) as ApiBody<"getGenerationV1", 200>).data;
    const events = await verifiedEvents(inbox, secret);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "generation.succeeded",
      data: {
        id: made.id,
        status: "success",
        imageUrl: regenerated.outputImage?.url,
        costUsdMicros: now.cost.usdMicros,
        errorCode: null,
      },
    });
    expect(regenerated.outputImageId).toBe(made.outputImageId);
  });

  it("deliver generation.succeeded from POST /api/v1/flows/{id}/regenerate", async () => {
    const { key, inbox, secret, env, webhooks, made } = await generated("regen-flow");
    const response = await api(`/api/v1/flows/${made.flowId}/regenerate`, { key: key.key, method: "POST", env });
    expect(response.status, await response.clone().text()).toBe(200);
    const regenerated = ((await response.json()) as ApiBody<"regenerateFlow", 200>).data;
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => [event.type, event.data.id, event.data.imageUrl])).toEqual([
      ["generation.succeeded", made.id, regenerated.outputImage?.url],
    ]);
  });

  it("deliver generation.failed with the error code when PUT /api/v1/generations/{id} regenerates and the model refuses", async () => {
    const { key, inbox, secret, env, webhooks, made } = await generated("regen-refused");
    const response = await api(`/api/v1/generations/${made.id}`, {
      key: key.key,
      method: "PUT",
      body: { prompt: `refused ${marker()} [fake:block=SAFETY]` },
      env,
    });
    expect(response.status).toBe(422);
    expect((await readProblem(response)).code).toBe("CONTENT_BLOCKED");
    await deliverWebhooks(webhooks);
    const events = await verifiedEvents(inbox, secret);
    expect(events.map((event) => event.data)).toEqual([
      { id: made.id, status: "failed", imageUrl: null, costUsdMicros: 0, errorCode: "CONTENT_BLOCKED" },
    ]);
  });
});
