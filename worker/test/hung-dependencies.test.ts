import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { api, readProblem } from "./support/app";
import { createProject, insertKey, type TestKey } from "./support/fixtures";
import { formWith, imageFile } from "./support/images";
import { pausableStackEnv, pause, resume, withPausableDb } from "./support/pausable";

/**
 * A paused (SIGSTOP) server still accepts connections in the kernel but never answers: the
 * worst way a dependency can fail, since nothing ever errors. These tests pause the real
 * PostgreSQL and S3 server of a stack of their own and check that no request waits on them.
 */

/** Far above the deadlines (a few seconds), far below the minutes a request hung for before. */
const PROMPT_ANSWER_MS = 15_000;
const TEST_TIMEOUT_MS = 60_000;

let env: Record<string, string>;
let key: TestKey;

beforeAll(async () => {
  env = await pausableStackEnv();
  ({ key } = await withPausableDb(env, async (db) => {
    const project = await createProject(db);
    return { scope: project, key: await insertKey(db, { type: "project", scope: project }) };
  }));
}, TEST_TIMEOUT_MS);

afterEach(async () => {
  // A failed assertion must never leave a server frozen for the next test.
  await resume("postgres");
});

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

describe("a paused PostgreSQL", () => {
  it(
    "makes GET /api/me answer 503 DATABASE_UNAVAILABLE with Retry-After within seconds",
    async () => {
      await pause("postgres");
      const { result: response, ms } = await timed(() => api("/api/me", { key: key.key, env }));
      const problem = await readProblem(response);

      expect(response.status).toBe(503);
      expect(problem.code).toBe("DATABASE_UNAVAILABLE");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(ms).toBeLessThan(PROMPT_ANSWER_MS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "makes /health answer 503 naming the database",
    async () => {
      await pause("postgres");
      const { result: response, ms } = await timed(() => api("/health", { env }));
      const body = (await response.json()) as { checks: { database: { status: string } } };

      expect(response.status).toBe(503);
      expect(body.checks.database.status).toBe("down");
      expect(ms).toBeLessThan(PROMPT_ANSWER_MS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "still lets a cached image be served",
    async () => {
      const form = formWith(await imageFile("png", 40, 30), "cached.png");
      const uploaded = await api("/api/upload", { key: key.key, form, env });
      expect(uploaded.status).toBe(201);
      const path = new URL(((await uploaded.json()) as { data: { url: string } }).data.url).pathname;
      await (await api(path, { env })).arrayBuffer();

      await pause("postgres");
      const { result: response, ms } = await timed(() => api(path, { env }));
      await response.arrayBuffer();

      expect(response.status).toBe(200);
      expect(response.headers.get("x-cache")).toBe("HIT");
      expect(ms).toBeLessThan(PROMPT_ANSWER_MS);
    },
    TEST_TIMEOUT_MS,
  );
});
