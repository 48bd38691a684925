import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { version } from "../../package.json";
import type { Schema } from "../../site/src/lib/api-contract";
import { buildApp } from "../src/app";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../src/delivery/client-limit";
import { buildDeliveryApp } from "../src/delivery-app";
import { generateApiKey } from "../src/domain/api-key";
import { api, callApp, countingRateLimit, deadUrl, fetchWorker, readProblem, testEnv } from "./support/app";
import { createProject, insertKey, type TestKey, withDb } from "./support/fixtures";
import { type FakeRequest, GEMINI_ENV, marker } from "./support/generation";

type HealthBody = Schema<"Health">;
type DeepHealthBody = Schema<"DeepHealth">;

/** Storage that records every call, so a test can tell that nothing touched it. */
function countingBucket(calls: string[]): R2Bucket {
  const bucket = testEnv.IMAGES_BUCKET;
  return {
    head(key: string) {
      calls.push("head");
      return bucket.head(key);
    },
    get(key: string) {
      calls.push("get");
      return bucket.get(key);
    },
    list(options?: R2ListOptions) {
      calls.push("list");
      return bucket.list(options);
    },
  } as unknown as R2Bucket;
}

describe("GET /health (public, shallow)", () => {
  it("answers 200 with the version and environment, never cached", async () => {
    const response = await fetchWorker("http://banatie.test/health");
    const body = (await response.json()) as HealthBody;

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body.status).toBe("ok");
    expect(body.version).toBe(version);
    expect(body.environment).toBe("test");
    expect(Date.now() - Date.parse(body.timestamp)).toBeLessThan(60_000);
    expect(body).not.toHaveProperty("checks");
  });

  it("calls neither the database nor storage, on the API and on the delivery Worker: it stays up while they are down", async () => {
    for (const app of [buildApp(), buildDeliveryApp()]) {
      const calls: string[] = [];
      const env = { STORAGE_DRIVER: "r2", IMAGES_BUCKET: countingBucket(calls), DATABASE_URL: deadUrl(testEnv.DATABASE_URL) };
      for (let i = 0; i < 3; i++) {
        const response = await callApp("/health", {}, env, app);
        expect(response.status).toBe(200);
        expect(((await response.json()) as HealthBody).status).toBe("ok");
      }
      expect(calls).toEqual([]);
    }
  });

  it("limits each client address, answering 429 with Retry-After", async () => {
    const env = { PUBLIC_IP_LIMITER: countingRateLimit(1) };
    const headers = { "CF-Connecting-IP": "203.0.113.9" };
    const first = await callApp("/health", { headers }, env);
    expect(first.status).toBe(200);
    await first.body?.cancel();
    const second = await callApp("/health", { headers }, env);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe(String(CLIENT_LIMIT_RETRY_SECONDS));
    expect((await readProblem(second)).code).toBe("TOO_MANY_REQUESTS");
    const elsewhere = await callApp("/health", { headers: { "CF-Connecting-IP": "203.0.113.10" } }, env);
    expect(elsewhere.status).toBe(200);
    await elsewhere.body?.cancel();
  });
});

describe("GET /api/admin/health (master key, deep)", () => {
  let master: TestKey;
  beforeAll(async () => {
    master = await withDb((db) => insertKey(db, { type: "master" }));
  });
  const deep = (env: Record<string, unknown> = {}) => api("/api/admin/health", { key: master.key, env });

  it("needs a master key: 401 without a key or with an unknown one, 403 with a project key, and absent from the delivery Worker", async () => {
    expect((await readProblem(await api("/api/admin/health"))).code).toBe("MISSING_API_KEY");
    const unknown = (await generateApiKey("master")).plaintext;
    expect((await readProblem(await api("/api/admin/health", { key: unknown }))).code).toBe("INVALID_API_KEY");
    const project = await withDb(async (db) => insertKey(db, { type: "project", scope: await createProject(db) }));
    const forbidden = await api("/api/admin/health", { key: project.key });
    expect(forbidden.status).toBe(403);
    await forbidden.body?.cancel();
    const delivery = await api("/api/admin/health", { key: master.key, app: buildDeliveryApp() });
    expect(delivery.status).toBe(404);
    await delivery.body?.cancel();
  });

  it("answers 200 with the database, storage and the offline model up", async () => {
    const response = await deep();
    const body = (await response.json()) as DeepHealthBody;

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({ status: "ok", version, environment: "test" });
    expect(body.checks.database).toMatchObject({ status: "up" });
    expect(body.checks.storage).toMatchObject({ status: "up" });
    expect(body.checks.model).toMatchObject({ status: "up", provider: "preview" });
    expect(body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.checks.database.error).toBeUndefined();
  });

  it("reaches Gemini without generating anything: no money spent", async () => {
    // A model name of this test's own, so the fake's record of generations tells whether it was asked for one.
    const model = `gemini-health-${marker()}`;
    const response = await deep({ ...GEMINI_ENV, GEMINI_BASE_URL: testEnv.GEMINI_BASE_URL, GEMINI_IMAGE_MODEL: model });
    const body = (await response.json()) as DeepHealthBody;

    expect(response.status).toBe(200);
    expect(body.checks.model).toMatchObject({ status: "up", provider: "gemini", model });
    const calls = (await (await fetch(`${testEnv.GEMINI_BASE_URL}/__fake/requests`)).json()) as FakeRequest[];
    expect(calls.filter((call) => call.model === model)).toEqual([]);
  });

  it("answers 503 naming the model when Gemini cannot be reached, with the rest up", async () => {
    const response = await deep({ ...GEMINI_ENV, GEMINI_BASE_URL: deadUrl(testEnv.GEMINI_BASE_URL) });
    const body = (await response.json()) as DeepHealthBody;

    expect(response.status).toBe(503);
    expect(body.status).toBe("unavailable");
    expect(body.checks.model.status).toBe("down");
    expect(body.checks.model.error).toMatch(/model/i);
    expect(body.checks.database.status).toBe("up");
    expect(body.checks.storage.status).toBe("up");
  });

  it("answers 503 DATABASE_UNAVAILABLE when PostgreSQL is down: the key cannot be checked", async () => {
    const response = await deep({ DATABASE_URL: deadUrl(testEnv.DATABASE_URL) });
    expect(response.status).toBe(503);
    expect((await readProblem(response)).code).toBe("DATABASE_UNAVAILABLE");
  });

  it("answers 503 naming storage when the S3 server is unreachable, with the database still up", async () => {
    const response = await deep({ S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) });
    const body = (await response.json()) as DeepHealthBody;

    expect(response.status).toBe(503);
    expect(body.checks.storage.status).toBe("down");
    expect(body.checks.storage.error).toMatch(/storage/i);
    expect(body.checks.database.status).toBe("up");
  });

  it("answers 503 when storage rejects the credentials, and never shows them", async () => {
    const secret = "wrong-secret-that-must-not-leak";
    const response = await deep({ S3_SECRET_ACCESS_KEY: secret });
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(JSON.parse(text).checks.storage.status).toBe("down");
    expect(text).not.toContain(secret);
  });

  it("reports the R2 binding's health when storage runs on R2, with one object lookup and no listing", async () => {
    const calls: string[] = [];
    const ctx = createExecutionContext();
    const request = new Request("http://banatie.test/api/admin/health", { headers: { "X-API-Key": master.key } });
    const response = await buildApp().fetch(
      request,
      { ...testEnv, STORAGE_DRIVER: "r2", IMAGES_BUCKET: countingBucket(calls) },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const body = (await response.json()) as DeepHealthBody;

    expect(response.status).toBe(200);
    expect(body.checks.storage.status).toBe("up");
    expect(calls).toEqual(["head"]);
  });
});
