import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { createDatabase } from "../src/db/client";
import { webhookDeliveries, webhookEndpoints } from "../src/db/schema";
import { WEBHOOK_RETRY_DELAYS_SECONDS } from "../src/domain/limits";
import { attemptDelivery, queueWebhookEvent, type WebhookEvent } from "../src/services/webhooks/deliveries";
import { checkWebhookUrl } from "../src/services/webhooks/url-safety";
import { api, readProblem, testEnv } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { consumeOnce, freshInbox, inboxUrl, receivedBy, recordingQueue, scriptInbox } from "./support/webhooks";

const db = () => createDatabase({ databaseUrl: testEnv.DATABASE_URL, databaseHttpEndpoint: testEnv.DATABASE_HTTP_ENDPOINT });
const deps = {
  get db() {
    return db();
  },
  environment: "test",
};

type Settings = ApiBody<"getWebhookSettings", 200>["data"];
type Delivery = ApiBody<"redeliverWebhook", 200>["data"];

async function putSettings(key: string, body: unknown, env?: Record<string, unknown>) {
  return api("/api/v1/webhooks", { key, method: "PUT", body, env });
}

async function settingsOf(key: string): Promise<Settings> {
  const response = await api("/api/v1/webhooks", { key });
  expect(response.status).toBe(200);
  return ((await response.json()) as ApiBody<"getWebhookSettings", 200>).data;
}

async function rotate(key: string): Promise<string> {
  const response = await api("/api/v1/webhooks/secret", { key, method: "POST" });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as ApiBody<"rotateWebhookSecret", 201>).data.secret;
}

/** A project whose endpoint is a fresh inbox of the receiver, subscribed to every event, with a secret. */
async function projectWithEndpoint(base: string) {
  const { scope, key } = await freshProjectKey();
  const inbox = freshInbox(base);
  const saved = await putSettings(key.key, {
    url: inboxUrl(inbox),
    events: ["generation.started", "generation.succeeded", "generation.failed"],
  });
  expect(saved.status, await saved.clone().text()).toBe(200);
  const secret = await rotate(key.key);
  return { projectId: scope.project.id, key: key.key, inbox, secret };
}

function succeededEvent(projectId: string, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    projectId,
    type: "generation.succeeded",
    generation: {
      id: crypto.randomUUID(),
      status: "success",
      imageUrl: "https://cdn.example.com/a/b/generated/x.png",
      costUsdMicros: 38_710,
    },
    ...overrides,
  };
}

async function queueOne(projectId: string, overrides: Partial<WebhookEvent> = {}) {
  const queue = recordingQueue();
  const delivery = await queueWebhookEvent({ db: db(), queue }, succeededEvent(projectId, overrides));
  expect(queue.sent).toHaveLength(delivery ? 1 : 0);
  return { delivery, message: queue.sent[0] };
}

async function deliveryRow(id: string) {
  const [row] = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  if (!row) throw new Error(`no delivery ${id}`);
  return row;
}

describe("webhook URL safety", () => {
  it("refuses outside development and test what could reach a private network", () => {
    const refused = [
      "http://example.com/hook",
      "file:///etc/passwd",
      "ftp://example.com/hook",
      "https://user:pass@example.com/hook",
      "https://example.com:8080/hook",
      "https://127.0.0.1/hook",
      "https://2130706433/hook",
      "https://0x7f.1/hook",
      "https://0177.0.0.1/hook",
      "https://10.1.2.3/hook",
      "https://172.16.0.1/hook",
      "https://192.168.1.1/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/hook",
      "https://0.0.0.0/hook",
      "https://224.0.0.1/hook",
      "https://[::1]/hook",
      "https://[::]/hook",
      "https://[::ffff:127.0.0.1]/hook",
      "https://[::ffff:10.0.0.1]/hook",
      "https://[fe80::1]/hook",
      "https://[fd00::1]/hook",
      "https://[ff02::1]/hook",
      "https://[64:ff9b::a00:1]/hook",
      "https://[2002:a00:1::]/hook",
      "https://localhost/hook",
      "https://api.localhost/hook",
      "https://printer.local/hook",
      "https://db.internal/hook",
      "https://intranet/hook",
      "http://127.0.0.1:9000/hook",
      "http://localhost:9000/hook",
    ];
    for (const url of refused) {
      expect(checkWebhookUrl(url, "production"), url).toMatchObject({ ok: false });
      expect(checkWebhookUrl(url, "staging"), url).toMatchObject({ ok: false });
    }
    for (const url of [
      "https://example.com/hook",
      "https://hooks.example.com:8443/x?y=1",
      "https://8.8.8.8/hook",
      "https://[2606:4700::1111]/hook",
    ]) {
      expect(checkWebhookUrl(url, "production"), url).toMatchObject({ ok: true });
    }
  });

  it("allows local receivers on loopback in development and test, and nothing else private", () => {
    for (const environment of ["development", "test"]) {
      expect(checkWebhookUrl("http://127.0.0.1:9000/hook", environment)).toMatchObject({ ok: true });
      expect(checkWebhookUrl("http://localhost:9000/hook", environment)).toMatchObject({ ok: true });
      expect(checkWebhookUrl("https://10.1.2.3/hook", environment)).toMatchObject({ ok: false });
      expect(checkWebhookUrl("http://10.1.2.3/hook", environment)).toMatchObject({ ok: false });
      expect(checkWebhookUrl("file:///etc/passwd", environment)).toMatchObject({ ok: false });
    }
  });
});

describe("GET and PUT /api/v1/webhooks", () => {
  it("round trip the settings; a new project has none", async () => {
    const { key } = await freshProjectKey();
    expect(await settingsOf(key.key)).toEqual({
      url: null,
      events: [],
      enabled: false,
      disabledReason: null,
      secret: { exists: false, createdAt: null, previousExpiresAt: null },
    });
    const response = await putSettings(key.key, { url: "https://hooks.example.com/banatie", events: ["generation.failed"] });
    expect(response.status).toBe(200);
    const settings = await settingsOf(key.key);
    expect(settings).toMatchObject({ url: "https://hooks.example.com/banatie", events: ["generation.failed"], enabled: true });
  });

  it("refuse unsafe URLs and unknown events with VALIDATION_ERROR naming the field, saving nothing", async () => {
    const { key } = await freshProjectKey();
    for (const url of [
      "https://10.0.0.1/hook",
      "file:///etc/passwd",
      "https://167772161/",
      "https://0xa.1/",
      "https://[::ffff:a00:1]/",
      "https://a:b@example.com/",
    ]) {
      const response = await putSettings(key.key, { url, events: ["generation.failed"] });
      expect(response.status, url).toBe(400);
      const problem = await readProblem(response);
      expect(problem.code).toBe("VALIDATION_ERROR");
      expect(problem.errors?.map((error) => error.field)).toEqual(["url"]);
    }
    const badEvent = await putSettings(key.key, { url: "https://example.com/hook", events: ["image.created"] });
    expect(badEvent.status).toBe(400);
    expect((await readProblem(badEvent)).errors?.[0]?.field).toMatch(/^events/);
    expect((await settingsOf(key.key)).url).toBeNull();
  });

  it("refuse a loopback receiver outside development and test", async () => {
    const { key } = await freshProjectKey();
    const url = inboxUrl(freshInbox("staging"));
    const refused = await putSettings(key.key, { url, events: ["generation.failed"] }, { ENVIRONMENT: "staging" });
    expect(refused.status).toBe(400);
    expect((await readProblem(refused)).errors?.[0]?.field).toBe("url");
    expect((await putSettings(key.key, { url, events: ["generation.failed"] })).status).toBe(200);
  });
});

describe("POST /api/v1/webhooks/secret", () => {
  it("shows a whsec_ secret once; GET only says one exists", async () => {
    const { key } = await freshProjectKey();
    const secret = await rotate(key.key);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const response = await api("/api/v1/webhooks", { key: key.key });
    const text = await response.text();
    expect(text).not.toContain(secret.slice(6));
    expect((JSON.parse(text) as ApiBody<"getWebhookSettings", 200>).data).toMatchObject({
      url: null,
      enabled: false,
      secret: { exists: true, previousExpiresAt: null },
    });
  });
});

describe("webhook deliveries", () => {
  it("are signed so that the standardwebhooks library verifies them, with a small payload", async () => {
    const { projectId, inbox, secret } = await projectWithEndpoint("verify");
    const { delivery, message } = await queueOne(projectId);
    expect(delivery).toBeDefined();
    const result = await consumeOnce(deps, message!);
    expect(result.acked).toBe(1);
    const [request] = await receivedBy(inbox);
    expect(request?.method).toBe("POST");
    expect(request?.headers["webhook-id"]).toBe(delivery?.messageId);
    expect(request?.headers["webhook-id"]).toMatch(/^msg_/);
    const payload = new Webhook(secret).verify(request!.body, request!.headers) as { type: string; data: unknown };
    expect(payload).toMatchObject({
      type: "generation.succeeded",
      data: {
        id: delivery?.payload.data.id,
        status: "success",
        imageUrl: "https://cdn.example.com/a/b/generated/x.png",
        costUsdMicros: 38_710,
      },
    });
    expect(() =>
      new Webhook(`whsec_${btoa("another secret of 32 bytes!!!!!!")}`).verify(request!.body, request!.headers),
    ).toThrow();
    expect((await deliveryRow(delivery!.id)).state).toBe("succeeded");
  });

  it("carry both signatures during a rotation, each verifying with its own secret", async () => {
    const { projectId, key, inbox, secret: previous } = await projectWithEndpoint("rotation");
    const current = await rotate(key);
    expect((await settingsOf(key)).secret.previousExpiresAt).not.toBeNull();
    const { message } = await queueOne(projectId);
    await consumeOnce(deps, message!);
    const [request] = await receivedBy(inbox);
    const signatures = request!.headers["webhook-signature"]!.split(" ");
    expect(signatures).toHaveLength(2);
    for (const [secret, signature] of [
      [current, signatures[0]],
      [previous, signatures[1]],
    ] as const) {
      new Webhook(secret).verify(request!.body, { ...request!.headers, "webhook-signature": signature! });
    }
  });

  it("stop carrying the replaced secret's signature once the 24 hours of a rotation are over", async () => {
    const { projectId, key, inbox } = await projectWithEndpoint("rotation-end");
    const current = await rotate(key);
    const overlap = Date.parse((await settingsOf(key)).secret.previousExpiresAt ?? "") - Date.now();
    expect(overlap).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600_000);
    await db()
      .update(webhookEndpoints)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(webhookEndpoints.projectId, projectId));
    expect((await settingsOf(key)).secret.previousExpiresAt).toBeNull();
    const { message } = await queueOne(projectId);
    await consumeOnce(deps, message!);
    const [request] = await receivedBy(inbox);
    expect(request!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    new Webhook(current).verify(request!.body, request!.headers);
  });

  it("are sent only for subscribed events of an enabled endpoint, or to the request's own webhook", async () => {
    const { projectId, key, inbox } = await projectWithEndpoint("filter");
    await putSettings(key, { url: inboxUrl(inbox), events: ["generation.failed"] });
    expect((await queueOne(projectId)).delivery).toBeUndefined();
    const other = freshInbox("override");
    const { delivery, message } = await queueOne(projectId, {
      webhook: { url: inboxUrl(other), events: ["generation.succeeded"] },
    });
    expect(delivery?.url).toBe(inboxUrl(other));
    await consumeOnce(deps, message!);
    expect(await receivedBy(other)).toHaveLength(1);
    expect(await receivedBy(inbox)).toHaveLength(0);
  });

  it("retry a failed attempt after the schedule's delay, keeping the webhook-id, until one succeeds", async () => {
    const { projectId, inbox } = await projectWithEndpoint("retry");
    await scriptInbox(inbox, [{ status: 500 }, { status: 503 }]);
    const { delivery, message } = await queueOne(projectId);
    const first = await consumeOnce(deps, message!);
    expect(first.retryDelays).toEqual([5]);
    expect(await deliveryRow(delivery!.id)).toMatchObject({ state: "pending", attempts: 1, lastStatusCode: 500 });
    const second = await consumeOnce(deps, message!, 2);
    expect(second.retryDelays).toEqual([300]);
    const third = await consumeOnce(deps, message!, 3);
    expect(third.acked).toBe(1);
    expect(await deliveryRow(delivery!.id)).toMatchObject({ state: "succeeded", attempts: 3, lastStatusCode: 204 });
    const requests = await receivedBy(inbox);
    expect(new Set(requests.map((request) => request.headers["webhook-id"]))).toEqual(new Set([delivery?.messageId]));
  });

  it("give up after the last step of the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)", async () => {
    expect(WEBHOOK_RETRY_DELAYS_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    const { projectId, inbox } = await projectWithEndpoint("exhaust");
    await scriptInbox(inbox, [{ status: 500 }, { status: 500 }]);
    const { delivery, message } = await queueOne(projectId);
    await db().update(webhookDeliveries).set({ attempts: 6 }).where(eq(webhookDeliveries.id, delivery!.id));
    const seventh = await consumeOnce(deps, message!, 7);
    expect(seventh.retryDelays).toEqual([36000]);
    const eighth = await consumeOnce(deps, message!, 8);
    expect(eighth.retryDelays).toEqual([]);
    expect(eighth.acked).toBe(1);
    expect(await deliveryRow(delivery!.id)).toMatchObject({ state: "failed", attempts: 8, nextAttemptAt: null });
  });

  it("stop at a 410, which disables the endpoint until its settings are saved again", async () => {
    const { projectId, key, inbox } = await projectWithEndpoint("gone");
    await scriptInbox(inbox, [{ status: 410 }]);
    const { delivery, message } = await queueOne(projectId);
    const result = await consumeOnce(deps, message!);
    expect(result.retryDelays).toEqual([]);
    expect(await deliveryRow(delivery!.id)).toMatchObject({ state: "failed", lastStatusCode: 410 });
    expect(await settingsOf(key)).toMatchObject({ enabled: false, disabledReason: expect.stringContaining("410") });
    expect((await queueOne(projectId)).delivery).toBeUndefined();

    await putSettings(key, { url: inboxUrl(inbox), events: ["generation.succeeded"] });
    expect(await settingsOf(key)).toMatchObject({ enabled: true, disabledReason: null });
    expect((await queueOne(projectId)).delivery).toBeDefined();
  });

  it("do not follow redirects: a 302 to a private address is a failed attempt and its Location is never fetched", async () => {
    const { projectId, inbox } = await projectWithEndpoint("redirect");
    const target = freshInbox("redirect-target");
    await scriptInbox(inbox, [{ status: 302, location: inboxUrl(target) }]);
    const { delivery, message } = await queueOne(projectId);
    const result = await consumeOnce(deps, message!);
    expect(result.retryDelays).toEqual([5]);
    expect(await deliveryRow(delivery!.id)).toMatchObject({
      state: "pending",
      lastStatusCode: 302,
      lastError: "redirects are not followed",
    });
    expect(await receivedBy(target)).toEqual([]);
  });

  it("check the URL again before sending: a private address is refused without a request or a retry", async () => {
    const { projectId } = await projectWithEndpoint("recheck");
    const { delivery, message } = await queueOne(projectId, {
      webhook: { url: "https://10.0.0.1/hook", events: ["generation.succeeded"] },
    });
    const result = await consumeOnce(deps, message!);
    expect(result.retryDelays).toEqual([]);
    expect(await deliveryRow(delivery!.id)).toMatchObject({ state: "failed", lastStatusCode: null });
    expect((await deliveryRow(delivery!.id)).lastError).toMatch(/^refused: the URL must not be a private/);
    // The test Worker allows loopback receivers; a staging one refuses them at delivery time too.
    const loopback = await queueOne(projectId, {
      webhook: { url: inboxUrl(freshInbox("staging")), events: ["generation.succeeded"] },
    });
    await consumeOnce({ db: db(), environment: "staging" }, loopback.message!);
    expect((await deliveryRow(loopback.delivery!.id)).lastError).toMatch(/^refused: the URL must be an https URL/);
  });

  it("count an attempt that gets no answer in time as failed, and retry it", async () => {
    const { projectId, inbox } = await projectWithEndpoint("timeout");
    await scriptInbox(inbox, [{ hang: true }]);
    const { delivery } = await queueOne(projectId);
    const outcome = await attemptDelivery({ db: db(), environment: "test", timeoutMs: 300 }, delivery!.id);
    expect(outcome).toEqual({ next: "retry", delaySeconds: 5 });
    const row = await deliveryRow(delivery!.id);
    expect(row).toMatchObject({ state: "pending", lastStatusCode: null, lastError: "no answer within the attempt's time" });
    expect(row.lastLatencyMs).toBeGreaterThanOrEqual(250);
  });

  it("go through the real webhooks queue to the Worker's queue handler", async () => {
    const { projectId, inbox } = await projectWithEndpoint("queue");
    const delivery = await queueWebhookEvent({ db: db(), queue: testEnv.WEBHOOK_QUEUE }, succeededEvent(projectId));
    let requests = await receivedBy(inbox);
    for (let waited = 0; requests.length === 0 && waited < 15_000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      requests = await receivedBy(inbox);
    }
    expect(requests[0]?.headers["webhook-id"]).toBe(delivery?.messageId);
  });
});

describe("GET /api/v1/webhooks/deliveries and POST .../redeliver", () => {
  it("list the project's deliveries with their outcome, and redeliver one with the same webhook-id", async () => {
    const { projectId, key, inbox } = await projectWithEndpoint("list");
    await scriptInbox(inbox, [{ status: 500 }]);
    const { delivery, message } = await queueOne(projectId);
    await consumeOnce(deps, message!);

    const listed = await api("/api/v1/webhooks/deliveries", { key });
    expect(listed.status).toBe(200);
    const page = (await listed.json()) as ApiBody<"listWebhookDeliveries", 200>;
    expect(page.pagination).toEqual({ total: 1, limit: 20, offset: 0, hasMore: false });
    expect(page.data[0]).toMatchObject({
      id: delivery?.id,
      messageId: delivery?.messageId,
      event: "generation.succeeded",
      state: "pending",
      attempts: 1,
      responseStatus: 500,
    });
    expect(page.data[0]?.latencyMs).toBeGreaterThanOrEqual(0);

    const redelivered = await api(`/api/v1/webhooks/deliveries/${delivery?.id}/redeliver`, { key, method: "POST" });
    expect(redelivered.status).toBe(200);
    const after = ((await redelivered.json()) as { data: Delivery }).data;
    expect(after).toMatchObject({ state: "succeeded", attempts: 2, responseStatus: 204 });
    const requests = await receivedBy(inbox);
    expect(requests.map((request) => request.headers["webhook-id"])).toEqual([delivery?.messageId, delivery?.messageId]);
  });

  it("answer 404 WEBHOOK_DELIVERY_NOT_FOUND for another project's delivery, sending nothing", async () => {
    const owner = await projectWithEndpoint("owner");
    const { delivery } = await queueOne(owner.projectId);
    const { key } = await freshProjectKey();
    const response = await api(`/api/v1/webhooks/deliveries/${delivery?.id}/redeliver`, { key: key.key, method: "POST" });
    expect(response.status).toBe(404);
    expect((await readProblem(response)).code).toBe("WEBHOOK_DELIVERY_NOT_FOUND");
    expect(await receivedBy(owner.inbox)).toEqual([]);
  });
});
