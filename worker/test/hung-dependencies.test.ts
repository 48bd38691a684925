import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ApiBody, Schema } from "../../site/src/lib/api-contract";
import { buildApp } from "../src/app";
import { loadConfig } from "../src/config";
import { ABANDONED_WRITE_BUDGET_MS } from "../src/domain/limits";
import { sweepOrphanObjects } from "../src/services/maintenance/orphan-objects";
import { removeAbandonedWrite } from "../src/storage/abandoned-write";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { api, freshIp, readProblem, testEnv } from "./support/app";
import { createProject, insertKey, quotaUsed, type TestKey, type TestProject } from "./support/fixtures";
import { formWith, imageFile } from "./support/images";
import { pausableSession, pausableStackEnv, pause, resume, withPausableDb } from "./support/pausable";

/**
 * A paused (SIGSTOP) server still accepts connections in the kernel but never answers: the
 * worst way a dependency can fail, since nothing ever errors. These tests pause the real
 * PostgreSQL and S3 server of a stack of their own and check that no request waits on them.
 */

/** Far above the deadlines (a few seconds), far below the minutes a request hung for before. */
const PROMPT_ANSWER_MS = 15_000;
const TEST_TIMEOUT_MS = 60_000;

let env: Record<string, string>;
let scope: TestProject;
let key: TestKey;
let master: TestKey;

beforeAll(async () => {
  env = await pausableStackEnv();
  ({ scope, key, master } = await withPausableDb(env, async (db) => {
    const project = await createProject(db);
    return {
      scope: project,
      key: await insertKey(db, { type: "project", scope: project }),
      master: await insertKey(db, { type: "master" }),
    };
  }));
}, TEST_TIMEOUT_MS);

afterEach(async () => {
  // A failed assertion must never leave a server frozen for the next test.
  await resume("postgres");
  await resume("s3");
});

const pausableStore = () => {
  const storage = loadConfig({ ...testEnv, ...env } as Env).storage;
  if (storage.driver !== "s3") throw new Error("the pausable stack uses s3");
  return createS3ObjectStore(storage.s3);
};

async function objectsOfProject(): Promise<string[]> {
  const page = await pausableStore().list({ prefix: `${scope.organization.slug}/${scope.project.slug}/` });
  return page.objects.map((object) => object.key);
}

async function imageRows(): Promise<number> {
  return withPausableDb(env, async (db) => {
    const result = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from images where project_id = ${scope.project.id}`,
    );
    return result.rows[0]?.n ?? -1;
  });
}

/** The storage keys of the project's live image rows (what users can list and load). */
async function imageRowKeys(): Promise<string[]> {
  return withPausableDb(env, async (db) => {
    const result = await db.execute<{ storage_key: string }>(
      sql`select storage_key from images where project_id = ${scope.project.id} and deleted_at is null`,
    );
    return result.rows.map((row) => row.storage_key);
  });
}

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
    "makes the deep health check answer 503 naming the database, while the shallow /health stays up",
    async () => {
      await pause("postgres");
      const { result: response, ms } = await timed(() => api("/api/admin/health", { key: master.key, env }));
      const problem = await readProblem(response);

      expect(response.status).toBe(503);
      expect(problem.code).toBe("DATABASE_UNAVAILABLE");
      expect(ms).toBeLessThan(PROMPT_ANSWER_MS);

      const shallow = await api("/health", { env });
      expect(shallow.status).toBe(200);
      expect(((await shallow.json()) as Schema<"Health">).status).toBe("ok");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "still lets a cached image be served",
    async () => {
      const form = formWith(await imageFile("png", 40, 30), "cached.png");
      const uploaded = await api("/api/upload", { key: key.key, form, env });
      expect(uploaded.status).toBe(201);
      const path = new URL(((await uploaded.json()) as ApiBody<"uploadImage", 201>).data.url).pathname;
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

/**
 * Sends a request while S3 is paused and wakes it once the response is in, before the request's
 * background work ends: as in production, where storage recovers while `waitUntil` still runs.
 * A write the Worker gave up on then reaches storage late; the settle time lets it land.
 */
async function whileStoragePaused(path: string, init: RequestInit): Promise<Response> {
  await pause("s3");
  const ctx = createExecutionContext();
  let response: Response;
  try {
    response = await buildApp().fetch(new Request(`http://banatie.test${path}`, init), { ...testEnv, ...env }, ctx);
  } finally {
    await resume("s3");
  }
  await waitOnExecutionContext(ctx);
  await new Promise((resolve) => setTimeout(resolve, STALE_WRITE_SETTLE_MS));
  return response;
}

const STALE_WRITE_SETTLE_MS = 1500;

describe("a paused S3 server", () => {
  it(
    "makes the deep health check answer 503 naming storage within seconds, with the database up",
    async () => {
      await pause("s3");
      const { result: response, ms } = await timed(() => api("/api/admin/health", { key: master.key, env }));
      const body = (await response.json()) as Schema<"DeepHealth">;

      expect(response.status).toBe(503);
      expect(body.checks.storage.status).toBe("down");
      expect(body.checks.storage.error).toMatch(/storage/i);
      expect(body.checks.database.status).toBe("up");
      expect(ms).toBeLessThan(PROMPT_ANSWER_MS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "makes the background delete of an abandoned object give up within its budget",
    async () => {
      await pause("s3");
      const { result: outcome, ms } = await timed(() =>
        removeAbandonedWrite(pausableStore(), `${scope.organization.slug}/never-answered.png`).then(
          () => "deleted",
          () => "gave up",
        ),
      );

      expect(outcome).toBe("gave up");
      // Background work gets about 30 s after the response; the pool is closed after it.
      expect(ms).toBeLessThan(ABANDONED_WRITE_BUDGET_MS + 2000);
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    [
      "a generation",
      "/api/text-to-image",
      async (): Promise<RequestInit> => ({
        method: "POST",
        headers: { "X-API-Key": key.key, "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
        body: JSON.stringify({ prompt: "a lighthouse in fog", autoEnhance: false }),
      }),
    ],
    [
      "an upload",
      "/api/upload",
      async (): Promise<RequestInit> => ({
        method: "POST",
        headers: { "X-API-Key": key.key, "CF-Connecting-IP": freshIp() },
        body: formWith(await imageFile("png", 32, 32), "late.png"),
      }),
    ],
  ])(
    "makes %s answer 503 STORAGE_UNAVAILABLE and leaves no object and no image row",
    async (_, path, request) => {
      const before = await objectsOfProject();
      const rowsBefore = await imageRows();
      const response = await whileStoragePaused(path, await request());
      const problem = await readProblem(response);

      expect(response.status).toBe(503);
      expect(problem.code).toBe("STORAGE_UNAVAILABLE");
      expect(await objectsOfProject()).toEqual(before);
      expect(await imageRows()).toBe(rowsBefore);
    },
    TEST_TIMEOUT_MS,
  );
});

async function generationsOfProject(): Promise<number> {
  return withPausableDb(env, async (db) => {
    const result = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from generations where project_id = ${scope.project.id}`,
    );
    return result.rows[0]?.n ?? -1;
  });
}

/** Resolves once `progress` moves on from `before`: the request reached that point. */
async function until(progress: () => Promise<number>, before: number): Promise<void> {
  const deadline = Date.now() + PROMPT_ANSWER_MS;
  while ((await progress()) === before) {
    if (Date.now() > deadline) throw new Error("the request never got that far");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Sends a request that stores an object, then its image row, and freezes the database between
 * the two: S3 is held until `progress` shows the request is past its last statement before the
 * PUT, PostgreSQL is paused, then S3 let go. The row's INSERT reaches the frozen server and gets
 * no answer in time; the server carries it out when it wakes, either while the request's
 * background work still runs or only after it.
 */
async function whileDatabaseFreezesAfterStoring(
  path: string,
  init: RequestInit,
  progress: () => Promise<number>,
  wake: Wake,
): Promise<Response> {
  const before = await progress();
  await pause("s3");
  const ctx = createExecutionContext();
  const responding = buildApp().fetch(new Request(`http://banatie.test${path}`, init), { ...testEnv, ...env }, ctx);
  let response: Response;
  try {
    await until(progress, before);
    await pause("postgres");
    await resume("s3");
    response = await responding;
  } finally {
    await resume("s3");
    if (wake === "during background work") await resume("postgres");
  }
  await waitOnExecutionContext(ctx);
  await resume("postgres");
  await new Promise((resolve) => setTimeout(resolve, STALE_WRITE_SETTLE_MS));
  return response;
}

type Wake = "during background work" | "after background work";

/**
 * What users see is whole: every live image row has its object, at once. An object left with no
 * live row is invisible; whether the row's write landed can stay unknown for a while (a repair
 * that got no answer either may itself land after the row's write is refused, leaving a deleted
 * row), and the scheduled orphan sweep removes such an object once its grace period is over.
 */
async function expectWholeOrAbsent(): Promise<void> {
  const rows = (await imageRowKeys()).sort();
  expect(await objectsOfProject()).toEqual(expect.arrayContaining(rows));
  await withPausableDb(env, (db) =>
    sweepOrphanObjects(
      { db, store: pausableStore() },
      {
        prefix: `${scope.organization.slug}/${scope.project.slug}/`,
        // As the sweep would run once the grace period has passed.
        writtenBefore: new Date(Date.now() + 60 * 60_000),
        scanLimit: 1000,
        deleteLimit: 1000,
      },
    ),
  );
  expect((await objectsOfProject()).sort()).toEqual(rows);
}

describe("PostgreSQL pausing between an image's object and its row", () => {
  for (const wake of ["during background work", "after background work"] as const) {
    it(
      `leaves an upload whole or absent, waking ${wake}`,
      async () => {
        const response = await whileDatabaseFreezesAfterStoring(
          "/api/upload",
          {
            method: "POST",
            headers: { "X-API-Key": key.key, "CF-Connecting-IP": freshIp() },
            body: formWith(await imageFile("png", 24, 24), "frozen.png"),
          },
          // The quota is spent by the last statement before the PUT.
          () => withPausableDb(env, (db) => quotaUsed(db, key.id)),
          wake,
        );
        const problem = await readProblem(response);

        expect(response.status).toBe(503);
        expect(problem.code).toBe("DATABASE_UNAVAILABLE");
        await expectWholeOrAbsent();
      },
      TEST_TIMEOUT_MS,
    );
  }

  it(
    "leaves a generation's image whole or absent",
    async () => {
      const response = await whileDatabaseFreezesAfterStoring(
        "/api/text-to-image",
        {
          method: "POST",
          headers: { "X-API-Key": key.key, "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
          body: JSON.stringify({ prompt: "a harbour at dawn", autoEnhance: false }),
        },
        // The pending generation row is the last statement before the PUT.
        generationsOfProject,
        "during background work",
      );
      const problem = await readProblem(response);

      expect(response.status).toBe(503);
      expect(problem.code).toBe("DATABASE_UNAVAILABLE");
      await expectWholeOrAbsent();
    },
    TEST_TIMEOUT_MS,
  );
});

async function projectName(): Promise<string | undefined> {
  return withPausableDb(env, async (db) => {
    const result = await db.execute<{ name: string }>(sql`select name from projects where id = ${scope.project.id}`);
    return result.rows[0]?.name;
  });
}

describe("a transaction whose statement gets no answer in time", () => {
  it(
    "leaves the request's next write to a connection of its own, so that write is kept",
    async () => {
      const request = pausableSession(env);
      // Another session holds the project's row, so the request's update waits past its deadline.
      let unlock = () => {};
      const unlocked = new Promise<void>((resolve) => {
        unlock = resolve;
      });
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const holding = pausableSession(env);
      const holder = holding.db
        .transaction(async (tx) => {
          await tx.execute(sql`select id from projects where id = ${scope.project.id} for update`);
          locked();
          await unlocked;
        })
        .finally(holding.close);
      await isLocked;
      try {
        const stuck = request.db.transaction((tx) =>
          tx.execute(sql`update projects set name = 'never kept' where id = ${scope.project.id}`),
        );
        await expect(stuck).rejects.toThrow();
      } finally {
        unlock();
        await holder;
      }

      const name = `renamed after the timeout ${crypto.randomUUID()}`;
      await request.db.execute(sql`update projects set name = ${name} where id = ${scope.project.id}`);
      await request.close();

      expect(await projectName()).toBe(name);
    },
    TEST_TIMEOUT_MS,
  );
});
