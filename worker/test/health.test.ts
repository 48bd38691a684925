import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { version } from "../../package.json";
import type { Schema } from "../../site/src/lib/api-contract";
import { buildApp } from "../src/app";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../src/delivery/client-limit";
import { callApp, countingRateLimit, deadUrl, fetchWorker, readProblem, testEnv } from "./support/app";

type HealthBody = Schema<"Health">;

describe("GET /health", () => {
  it("answers 200 with both dependencies up when PostgreSQL and storage are reachable", async () => {
    const response = await fetchWorker("http://banatie.test/health");
    const body = (await response.json()) as HealthBody;

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(body.status).toBe("ok");
    expect(body.version).toBe(version);
    expect(body.environment).toBe("test");
    expect(Date.now() - Date.parse(body.timestamp)).toBeLessThan(60_000);
    expect(body.checks.database).toMatchObject({ status: "up" });
    expect(body.checks.storage).toMatchObject({ status: "up" });
    expect(body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.checks.database.error).toBeUndefined();
  });

  it("answers 503 naming the database when PostgreSQL is down, with storage still up", async () => {
    const response = await callApp("/health", {}, { DATABASE_URL: deadUrl(testEnv.DATABASE_URL) });
    const body = (await response.json()) as HealthBody;

    expect(response.status).toBe(503);
    expect(body.status).toBe("unavailable");
    expect(body.checks.database.status).toBe("down");
    expect(body.checks.database.error).toMatch(/database/i);
    expect(body.checks.storage.status).toBe("up");
  });

  it("answers 503 naming storage when the S3 server is unreachable, with the database still up", async () => {
    const response = await callApp("/health", {}, { S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) });
    const body = (await response.json()) as HealthBody;

    expect(response.status).toBe(503);
    expect(body.checks.storage.status).toBe("down");
    expect(body.checks.storage.error).toMatch(/storage/i);
    expect(body.checks.database.status).toBe("up");
  });

  it("answers 503 when storage rejects the credentials, and never shows them", async () => {
    const secret = "wrong-secret-that-must-not-leak";
    const response = await callApp("/health", {}, { S3_SECRET_ACCESS_KEY: secret });
    const text = await response.text();

    expect(response.status).toBe(503);
    expect(JSON.parse(text).checks.storage.status).toBe("down");
    expect(text).not.toContain(secret);
  });

  it("reports the R2 binding's health when storage runs on R2", async () => {
    const response = await callApp("/health", {}, { STORAGE_DRIVER: "r2" });
    const body = (await response.json()) as HealthBody;

    expect(response.status).toBe(200);
    expect(body.checks.storage.status).toBe("up");
  });

  it("is cheap: no storage listing, and one check serves an isolate's requests for a few seconds", async () => {
    const calls: string[] = [];
    const bucket = testEnv.IMAGES_BUCKET;
    const counting = {
      head(key: string) {
        calls.push("head");
        return bucket.head(key);
      },
      list(options?: R2ListOptions) {
        calls.push("list");
        return bucket.list(options);
      },
    } as unknown as R2Bucket;
    // One env object, as a deployed isolate has.
    const env = { ...testEnv, STORAGE_DRIVER: "r2", IMAGES_BUCKET: counting };
    const app = buildApp();
    for (let i = 0; i < 3; i++) {
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request("http://banatie.test/health"), env, ctx);
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(200);
      expect(((await response.json()) as HealthBody).checks.storage.status).toBe("up");
    }
    expect(calls).toEqual(["head"]);
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
