import { describe, expect, it } from "vitest";
import { version } from "../../package.json";
import { callApp, deadUrl, fetchWorker, testEnv } from "./support/app";

interface HealthBody {
  status: string;
  timestamp: string;
  version: string;
  environment: string;
  checks: Record<"database" | "storage", { status: string; latencyMs: number; error?: string }>;
}

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
});
