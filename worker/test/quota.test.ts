import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
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

const HOUR_MS = 60 * 60 * 1000;

/**
 * Responses grouped by the quota window each reports, in the order sent. Requests that straddle
 * the turn of the hour are counted in two windows, and a test that assumed one would flake.
 */
function byWindow(responses: Response[]): Response[][] {
  const windows = new Map<string, Response[]>();
  for (const response of responses) {
    const reset = response.headers.get("x-ratelimit-reset") ?? "";
    windows.set(reset, [...(windows.get(reset) ?? []), response]);
  }
  return [...windows.values()];
}

describe("exact hourly quota", () => {
  it("reports the quota and its hourly window on an admitted request, in both header styles", async () => {
    const key = await withDb((db) => insertKey(db, { type: "project", scope }));
    const before = Date.now();
    const response = await spend(key.key);
    const after = Date.now();
    expect(response.status).toBe(200);
    await response.body?.cancel();

    // The window is the clock hour the request fell in: it resets at the full hour that ends it.
    const reset = new Date(response.headers.get("x-ratelimit-reset") ?? "");
    expect(reset.toISOString()).toBe(response.headers.get("x-ratelimit-reset"));
    expect(reset.getUTCMinutes() + reset.getUTCSeconds() + reset.getUTCMilliseconds()).toBe(0);
    expect(reset.getTime()).toBeGreaterThan(before);
    expect(reset.getTime() - HOUR_MS).toBeLessThanOrEqual(after);
    expect(response.headers.get("x-ratelimit-limit")).toBe("100");
    expect(response.headers.get("x-ratelimit-remaining")).toBe("99");
    expect(response.headers.get("ratelimit-policy")).toBe('"hourly";q=100;w=3600');
    const [, remaining, resetIn] = /^"hourly";r=(\d+);t=(\d+)$/.exec(response.headers.get("ratelimit") ?? "") ?? [];
    expect(remaining).toBe("99");
    // Seconds from the moment the server answered, somewhere between before and after.
    expect(Number(resetIn)).toBeGreaterThanOrEqual(Math.ceil((reset.getTime() - after) / 1000));
    expect(Number(resetIn)).toBeLessThanOrEqual(Math.ceil((reset.getTime() - before) / 1000));
  });

  it("admits exactly one of 50 concurrent requests when 99 of 100 are used", async () => {
    const key = await withDb(async (db) => {
      const created = await insertKey(db, { type: "project", scope });
      await setQuotaUsed(db, created.id, 99);
      return created;
    });

    const responses = await Promise.all(Array.from({ length: 50 }, () => spend(key.key)));
    // One window unless the hour turned mid-burst; each window had exactly one request left.
    const windows = byWindow(responses);
    for (const inWindow of windows) {
      expect(inWindow.map((response) => response.status).sort()).toEqual([200, ...Array(inWindow.length - 1).fill(429)]);
    }
    const admitted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect(admitted).toHaveLength(windows.length);
    expect(admitted[0]?.headers.get("x-ratelimit-remaining")).toBe("0");

    const problem = await readProblem(refused[0] as Response);
    expect(problem.code).toBe("RATE_LIMIT_EXCEEDED");
    expect(Number(refused[0]?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused[0]?.headers.get("x-ratelimit-remaining")).toBe("0");
    for (const response of responses) await response.body?.cancel().catch(() => {});

    // The first refusal of a window is audited once, not 49 times.
    const audited = await withDb(
      async (db) =>
        (
          await db.execute<{ n: number }>(
            sql`select count(*)::int as n from audit_events where action = 'quota.exceeded' and actor_key_id = ${key.id}`,
          )
        ).rows[0]?.n,
    );
    expect(audited).toBe(windows.length);
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
    const responses: Response[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await spend(key.key);
      responses.push(response);
      await response.body?.cancel();
    }
    // Three admitted, then refused, in each window the requests fell in (one, unless the hour turned).
    for (const inWindow of byWindow(responses)) {
      expect(inWindow.map((response) => response.status)).toEqual([200, 200, 200, 429].slice(0, inWindow.length));
    }
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
    const { data } = (await response.json()) as ApiBody<"getMe", 200>;
    expect(data.quota).toMatchObject({ limit: 100, used: 42, remaining: 58 });
    const windowStart = new Date(Date.parse(data.quota.resetAt) - HOUR_MS);
    expect(await withDb((db) => quotaUsed(db, key.id, windowStart))).toBe(42);
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
