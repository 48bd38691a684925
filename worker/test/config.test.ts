import { describe, expect, it } from "vitest";
import { callApp, readProblem } from "./support/app";

describe("configuration", () => {
  it("fails requests to public, document and unknown paths alike with a 500 problem naming a missing setting", async () => {
    for (const path of ["/health", "/api/info", "/api/openapi.json", "/nope"]) {
      const response = await callApp(path, {}, { DATABASE_URL: undefined });
      const problem = await readProblem(response);

      expect(response.status, path).toBe(500);
      expect(problem.code).toBe("CONFIGURATION_ERROR");
      expect(problem.detail).toContain("DATABASE_URL");
    }
  });

  it("names every invalid setting without echoing values, which may be secrets", async () => {
    const secretLookingValue = "https//not-a-url-but-a-secret-token-9f8e7d";
    const response = await callApp(
      "/health",
      {},
      { S3_ENDPOINT: secretLookingValue, ENVIRONMENT: "moon", DATABASE_URL: "mysql://root:hunter2@db/x" },
    );
    const text = await response.clone().text();
    const problem = await readProblem(response);

    expect(response.status).toBe(500);
    expect(problem.detail).toContain("S3_ENDPOINT");
    expect(problem.detail).toContain("ENVIRONMENT");
    expect(problem.detail).toContain("DATABASE_URL");
    for (const leaked of [secretLookingValue, "moon", "hunter2", "mysql://"]) expect(text).not.toContain(leaked);
  });

  it("requires the S3 settings for the s3 driver and the R2 binding for the r2 driver", async () => {
    const s3 = await readProblem(await callApp("/api/info", {}, { STORAGE_DRIVER: "s3", S3_ACCESS_KEY_ID: "" }));
    expect(s3.detail).toContain("S3_ACCESS_KEY_ID");

    const r2 = await readProblem(await callApp("/api/info", {}, { STORAGE_DRIVER: "r2", IMAGES_BUCKET: undefined }));
    expect(r2.detail).toContain("IMAGES_BUCKET");

    const driver = await readProblem(await callApp("/api/info", {}, { STORAGE_DRIVER: "gcs" }));
    expect(driver.detail).toContain("STORAGE_DRIVER");
  });

  it("refuses DATABASE_WS_PROXY in production, where it would send the database password in cleartext", async () => {
    const response = await callApp("/api/info", {}, { ENVIRONMENT: "production" });
    const problem = await readProblem(response);

    expect(response.status).toBe(500);
    expect(problem.code).toBe("CONFIGURATION_ERROR");
    expect(problem.detail).toContain("DATABASE_WS_PROXY");

    const withoutProxy = await callApp(
      "/api/info",
      {},
      { ENVIRONMENT: "production", DATABASE_WS_PROXY: undefined, DATABASE_HTTP_ENDPOINT: undefined },
    );
    await withoutProxy.body?.cancel();
    expect(withoutProxy.status).toBe(200);
  });

  it("refuses a plain-http DATABASE_HTTP_ENDPOINT in production, where it would send the password in cleartext", async () => {
    const production = { ENVIRONMENT: "production", DATABASE_WS_PROXY: undefined };
    const plain = await callApp("/api/info", {}, { ...production, DATABASE_HTTP_ENDPOINT: "http://127.0.0.1:54332/sql" });
    const problem = await readProblem(plain);

    expect(plain.status).toBe(500);
    expect(problem.code).toBe("CONFIGURATION_ERROR");
    expect(problem.detail).toContain("DATABASE_HTTP_ENDPOINT");

    const encrypted = await callApp("/api/info", {}, { ...production, DATABASE_HTTP_ENDPOINT: "https://sql.example.com/sql" });
    await encrypted.body?.cancel();
    expect(encrypted.status).toBe(200);
  });

  it("refuses half a Stripe setup, which would bill nobody, and a plain-http Stripe API in production", async () => {
    const keyOnly = await readProblem(await callApp("/api/info", {}, { STRIPE_SECRET_KEY: "sk_test_abc123" }));
    expect(keyOnly.code).toBe("CONFIGURATION_ERROR");
    expect(keyOnly.detail).toContain("STRIPE_METER_EVENT_NAME is required when STRIPE_SECRET_KEY is set");
    expect(keyOnly.detail).not.toContain("sk_test_abc123");

    const meterOnly = await readProblem(await callApp("/api/info", {}, { STRIPE_METER_EVENT_NAME: "banatie_usage" }));
    expect(meterOnly.detail).toContain("STRIPE_SECRET_KEY is required when STRIPE_METER_EVENT_NAME is set");

    const notAKey = await readProblem(
      await callApp("/api/info", {}, { STRIPE_SECRET_KEY: "pk_live_public", STRIPE_METER_EVENT_NAME: "banatie_usage" }),
    );
    expect(notAKey.detail).toContain("STRIPE_SECRET_KEY must be a Stripe secret or restricted key");

    const plainHttp = await readProblem(
      await callApp(
        "/api/info",
        {},
        {
          ENVIRONMENT: "production",
          DATABASE_WS_PROXY: "",
          DATABASE_HTTP_ENDPOINT: "",
          STRIPE_API_BASE: "http://stripe.example",
        },
      ),
    );
    expect(plainHttp.detail).toContain("STRIPE_API_BASE must be https in production");

    const complete = await callApp(
      "/api/info",
      {},
      { STRIPE_SECRET_KEY: "sk_test_abc123", STRIPE_METER_EVENT_NAME: "banatie_usage", STRIPE_API_BASE: "http://127.0.0.1:1" },
    );
    await complete.body?.cancel();
    expect(complete.status).toBe(200);
  });

  it("reads an empty setting as not set, so it takes its default", async () => {
    const blank = { STORAGE_DRIVER: "", IMAGE_EDGE_CACHE: "", TRANSFORM_SIGNATURES: "" };
    const response = await callApp("/api/info", {}, blank);
    await response.body?.cancel();
    expect(response.status).toBe(200);
  });

  it("applies production's rules when ENVIRONMENT is not set, so a deploy that forgets it fails closed", async () => {
    // Production refuses the plain-WebSocket database proxy that the test stack uses.
    const problem = await readProblem(await callApp("/api/info", {}, { ENVIRONMENT: "" }));
    expect(problem.code).toBe("CONFIGURATION_ERROR");
    expect(problem.detail).toContain("DATABASE_WS_PROXY");
  });

  it("serves requests once the configuration is valid", async () => {
    const response = await callApp("/api/info");
    await response.body?.cancel();
    expect(response.status).toBe(200);
  });
});
