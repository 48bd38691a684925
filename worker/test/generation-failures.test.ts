import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { api, deadUrl, readProblem, testEnv } from "./support/app";
import { withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";

const store = () => {
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("the test stack uses s3");
  return createS3ObjectStore(storage.s3);
};

/**
 * Each failure kind: the clear problem the client gets, the attempts made upstream, and what is
 * left behind: a `failed` generation with the code, no image row, no object.
 */
async function expectFailure(
  directive: string,
  expected: { status: number; code: string; attempts: number; detail?: RegExp },
  env: Record<string, string> = GEMINI_ENV,
) {
  const { scope, key } = await freshProjectKey();
  const tag = marker();
  const response = await api("/api/text-to-image", {
    key: key.key,
    body: { prompt: `a tree ${tag} ${directive}`, autoEnhance: false },
    env,
  });
  const text = await response.clone().text();
  const problem = await readProblem(response);

  expect(response.status, text).toBe(expected.status);
  expect(problem.code).toBe(expected.code);
  if (expected.detail) expect(problem.detail).toMatch(expected.detail);
  expect(text).not.toContain("test-gemini-key");
  expect(text).not.toContain("127.0.0.1");
  expect((await fakeRequests(tag)).length).toBe(expected.attempts);

  const rows = await withDb(async (db) => {
    const generations = await db.execute<{ status: string; error_code: string }>(
      sql`select status, error_code from generations where api_key_id = ${key.id}`,
    );
    const images = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from images where project_id = ${scope.project.id}`,
    );
    return { generations: generations.rows, images: images.rows[0]?.n };
  });
  expect(rows.generations).toEqual([{ status: "failed", error_code: expected.code }]);
  expect(rows.images).toBe(0);
  expect((await store().list({ prefix: `${scope.organization.slug}/${scope.project.slug}/` })).objects).toEqual([]);
  return response;
}

describe("text-to-image failures are clear and leave nothing behind", () => {
  it("unreachable storage is 503 STORAGE_UNAVAILABLE with a failed generation and no image row", async () => {
    const { scope, key } = await freshProjectKey();
    const response = await api("/api/text-to-image", {
      key: key.key,
      body: { prompt: "a quiet harbour", autoEnhance: false },
      env: { S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) },
    });
    expect(response.status).toBe(503);
    expect((await readProblem(response)).code).toBe("STORAGE_UNAVAILABLE");
    const rows = await withDb(async (db) => ({
      generations: (await db.execute(sql`select status, error_code from generations where api_key_id = ${key.id}`)).rows,
      images: (await db.execute<{ n: number }>(sql`select count(*)::int as n from images where project_id = ${scope.project.id}`))
        .rows[0]?.n,
    }));
    expect(rows.generations).toEqual([{ status: "failed", error_code: "STORAGE_UNAVAILABLE" }]);
    expect(rows.images).toBe(0);
  });

  it("a blocked prompt is 422 CONTENT_BLOCKED with the reason, not retried", async () => {
    await expectFailure("[fake:block=PROHIBITED_CONTENT]", {
      status: 422,
      code: "CONTENT_BLOCKED",
      attempts: 1,
      detail: /PROHIBITED_CONTENT/,
    });
  });

  it.each(["SAFETY", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER"])(
    "an image withheld with %s is 422 CONTENT_BLOCKED",
    async (reason) => {
      await expectFailure(`[fake:finish=${reason}]`, {
        status: 422,
        code: "CONTENT_BLOCKED",
        attempts: 1,
        detail: new RegExp(reason),
      });
    },
  );

  it("NO_IMAGE is 422 NO_IMAGE", async () => {
    await expectFailure("[fake:finish=NO_IMAGE]", { status: 422, code: "NO_IMAGE", attempts: 1, detail: /NO_IMAGE/ });
  });

  it("a text-only answer is 422 NO_IMAGE quoting the model", async () => {
    await expectFailure("[fake:text-only]", { status: 422, code: "NO_IMAGE", attempts: 1, detail: /A rendering of: a tree/ });
  });

  it("an upstream that stays rate limited is 503 with Retry-After, after every attempt", async () => {
    const response = await expectFailure("[fake:status=429]", { status: 503, code: "UPSTREAM_RATE_LIMITED", attempts: 3 });
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("a failing upstream is 502 after every attempt; a request error is not retried", async () => {
    await expectFailure("[fake:status=503]", { status: 502, code: "UPSTREAM_ERROR", attempts: 3 });
    await expectFailure("[fake:status=400]", { status: 502, code: "UPSTREAM_ERROR", attempts: 1 });
  });

  it("an upstream that does not answer in time is 504, after the attempts the budget allows", async () => {
    // Each attempt gets 600 ms and all attempts share twice that. The wait after the first timeout
    // is under the client's 500 ms backoff base, so a second attempt always starts and a third
    // never fits: the deterministic answer in 1.2 s rather than 3 s at the usual 1500 ms.
    await expectFailure(
      "[fake:delay=5000]",
      { status: 504, code: "UPSTREAM_TIMEOUT", attempts: 2 },
      { ...GEMINI_ENV, GEMINI_TIMEOUT_MS: "600" },
    );
  });

  it("a malformed answer is 502 UPSTREAM_BAD_RESPONSE", async () => {
    await expectFailure("[fake:malformed]", { status: 502, code: "UPSTREAM_BAD_RESPONSE", attempts: 1 });
  });
});
