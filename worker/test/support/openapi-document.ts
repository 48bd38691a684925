import { buildApp } from "../../src/app";

/**
 * The OpenAPI document as GET /api/openapi.json serves it, built from the routes in this process.
 * Serving it needs a valid configuration but touches no database or storage, so placeholders do.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const env = {
    DATABASE_URL: "postgres://user:password@127.0.0.1:5432/banatie",
    S3_ENDPOINT: "http://127.0.0.1:9000",
    S3_BUCKET: "banatie",
    S3_ACCESS_KEY_ID: "id",
    S3_SECRET_ACCESS_KEY: "secret",
  };
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
  const response = await buildApp().fetch(new Request("http://banatie.test/api/openapi.json"), env as never, ctx as never);
  if (response.status !== 200) throw new Error(`GET /api/openapi.json answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}
