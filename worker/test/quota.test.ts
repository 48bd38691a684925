import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { commonErrorResponses, problemResponse, quotaKeyErrorResponses } from "../src/lib/openapi";
import { access, authorizeProject } from "../src/middleware/access";
import { createRouter } from "../src/routes/create-app";
import { api, countingRateLimit, readProblem, testEnv } from "./support/app";
import { createProject, insertKey, quotaUsed, setQuotaUsed, type TestProject, withDb } from "./support/fixtures";

/**
 * A rate-limited operation as text-to-image, enhance and upload are: validated body first,
 * then one authentication-and-quota round trip.
 */
function appWithLimitedRoute() {
  const app = buildApp();
  const route = createRoute({
    method: "post",
    path: "/api/test-limited",
    middleware: [access.project({ rateLimited: true })],
    request: { body: { content: { "application/json": { schema: z.object({ prompt: z.string().min(1) }) } }, required: true } },
    responses: {
      200: { description: "ok", content: { "application/json": { schema: z.object({ project: z.string() }) } } },
      400: problemResponse("Invalid request"),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
    },
  });
  app.route(
    "/",
    createRouter().openapi(route, async (c) => {
      const caller = await authorizeProject(c);
      return c.json({ project: caller.project.slug }, 200);
    }),
  );
  return app;
}

const app = appWithLimitedRoute();
let scope: TestProject;

beforeAll(async () => {
  scope = await withDb((db) => createProject(db));
});

const spend = (key: string, body: unknown = { prompt: "a cat" }) => api("/api/test-limited", { app, key, body });

describe("exact hourly quota", () => {
  it("reports the quota on every limited response, in both header styles", async () => {
    const key = await withDb((db) => insertKey(db, { type: "project", scope }));
    const response = await spend(key.key);
    expect(response.status).toBe(200);
    await response.body?.cancel();

    // The window is the clock hour: it resets at the next full hour, within the coming 3600 s.
    const reset = new Date(response.headers.get("x-ratelimit-reset") ?? "");
    expect(reset.toISOString()).toBe(response.headers.get("x-ratelimit-reset"));
    expect(reset.getUTCMinutes() + reset.getUTCSeconds() + reset.getUTCMilliseconds()).toBe(0);
    const secondsLeft = Math.ceil((reset.getTime() - Date.now()) / 1000);
    expect(secondsLeft).toBeGreaterThan(0);
    expect(secondsLeft).toBeLessThanOrEqual(3600);
    expect(response.headers.get("x-ratelimit-limit")).toBe("100");
    expect(response.headers.get("x-ratelimit-remaining")).toBe("99");
    expect(response.headers.get("ratelimit-policy")).toBe('"hourly";q=100;w=3600');
    const [, remaining, resetIn] = /^"hourly";r=(\d+);t=(\d+)$/.exec(response.headers.get("ratelimit") ?? "") ?? [];
    expect(remaining).toBe("99");
    expect(Math.abs(Number(resetIn) - secondsLeft)).toBeLessThanOrEqual(2);
  });

  it("admits exactly one of 50 concurrent requests when 99 of 100 are used", async () => {
    const key = await withDb(async (db) => {
      const created = await insertKey(db, { type: "project", scope });
      await setQuotaUsed(db, created.id, 99);
      return created;
    });

    const responses = await Promise.all(Array.from({ length: 50 }, () => spend(key.key)));
    const admitted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect(admitted).toHaveLength(1);
    expect(refused).toHaveLength(49);
    expect(admitted[0]?.headers.get("x-ratelimit-remaining")).toBe("0");

    const problem = await readProblem(refused[0] as Response);
    expect(problem.code).toBe("RATE_LIMIT_EXCEEDED");
    expect(Number(refused[0]?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused[0]?.headers.get("x-ratelimit-remaining")).toBe("0");
    for (const response of responses) await response.body?.cancel().catch(() => {});

    // The first refusal of the window is audited once, not 49 times.
    const audited = await withDb(
      async (db) =>
        (
          await db.execute<{ n: number }>(
            sql`select count(*)::int as n from audit_events where action = 'quota.exceeded' and actor_key_id = ${key.id}`,
          )
        ).rows[0]?.n,
    );
    expect(audited).toBe(1);
  });

  it("does not spend quota on a request rejected for bad input", async () => {
    const key = await withDb((db) => insertKey(db, { type: "project", scope }));
    for (const body of [{ prompt: "" }, { nothing: true }]) {
      const response = await spend(key.key, body);
      expect(response.status).toBe(400);
      await response.body?.cancel();
    }
    const malformed = await api("/api/test-limited", {
      app,
      key: key.key,
      headers: { "Content-Type": "application/json" },
      method: "POST",
    });
    await malformed.body?.cancel();
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });

  it("honours a key's own hourly limit", async () => {
    const key = await withDb((db) => insertKey(db, { type: "project", scope, hourlyLimit: 3 }));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await spend(key.key);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("does not charge a master key refused on a project operation", async () => {
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const response = await spend(master.key);
    expect(response.status).toBe(403);
    await response.body?.cancel();
    expect(await withDb((db) => quotaUsed(db, master.id))).toBe(0);
  });

  it("shows the quota on GET /api/me without spending it", async () => {
    const key = await withDb(async (db) => {
      const created = await insertKey(db, { type: "project", scope });
      await setQuotaUsed(db, created.id, 42);
      return created;
    });
    const response = await api("/api/me", { key: key.key });
    const { data } = (await response.json()) as { data: { quota: { limit: number; used: number; remaining: number } } };
    expect(data.quota).toMatchObject({ limit: 100, used: 42, remaining: 58 });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(42);
  });
});

describe("burst shield", () => {
  it("cuts a flood from one key before it reaches the database", async () => {
    const key = await withDb((db) => insertKey(db, { type: "project", scope, hourlyLimit: 10_000 }));
    const env = { KEY_BURST_LIMITER: countingRateLimit(5) };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await api("/api/test-limited", { app, key: key.key, body: { prompt: "a cat" }, env });
      statuses.push(response.status);
      if (response.status === 429) {
        expect((await readProblem(response)).code).toBe("TOO_MANY_REQUESTS");
        expect(response.headers.get("retry-after")).toBe("10");
      } else await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    // Requests stopped by the shield were never counted.
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(5);
  });

  it("is the Workers Rate Limiting binding in the deployed configuration", () => {
    expect(typeof testEnv.KEY_BURST_LIMITER.limit).toBe("function");
    expect(typeof testEnv.AUTH_FAILURE_LIMITER.limit).toBe("function");
  });
});
