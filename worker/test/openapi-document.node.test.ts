import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app";

// Runs in Node: the validator compiles JSON Schemas with `new Function`, which workerd forbids.
// Serving /api/openapi.json needs a valid configuration but touches no database or storage.
const env = {
  DATABASE_URL: "postgres://user:password@127.0.0.1:5432/banatie",
  S3_ENDPOINT: "http://127.0.0.1:9000",
  S3_BUCKET: "banatie",
  S3_ACCESS_KEY_ID: "id",
  S3_SECRET_ACCESS_KEY: "secret",
};

describe("the OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 schema", async () => {
    const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
    const response = await buildApp().fetch(new Request("http://banatie.test/api/openapi.json"), env as never, ctx as never);
    const document = (await response.json()) as Record<string, unknown>;

    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
