import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { budgetPeriod } from "../src/domain/budget";
import type { ProjectCaller } from "../src/lib/access-types";
import { budgetSettlement, reserveBudget } from "../src/services/budgets";
import { releaseStaleReservations } from "../src/services/maintenance/stale-reservations";
import { api, deadUrl, readProblem, testEnv } from "./support/app";
import { insertKey, type TestKey, withDb } from "./support/fixtures";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";

let master: TestKey;

beforeAll(async () => {
  master = await withDb((db) => insertKey(db, { type: "master" }));
});

/** A prompt of fixed length per marker, so every request of a test gets the same quote. */
const promptWith = (tag: string, directive = "") => `a lighthouse at dusk ${tag} ${directive}`.trim();

async function quoteOf(key: string, prompt: string): Promise<number> {
  const response = await api("/api/quotes", { key, body: { prompt, autoEnhance: false }, env: GEMINI_ENV });
  expect(response.status).toBe(200);
  return ((await response.json()) as ApiBody<"createQuote", 200>).data.usdMicros;
}

function generate(key: string, prompt: string) {
  return api("/api/text-to-image", { key, body: { prompt, autoEnhance: false }, env: GEMINI_ENV });
}

async function setKeyBudget(keyId: string, monthlyBudgetUsd: number | null) {
  return api(`/api/admin/keys/${keyId}`, { method: "PATCH", key: master.key, body: { monthlyBudgetUsd } });
}

async function setProjectBudget(projectId: string, monthlyBudgetUsd: number | null) {
  return api(`/api/admin/projects/${projectId}`, { method: "PATCH", key: master.key, body: { monthlyBudgetUsd } });
}

interface PeriodRow extends Record<string, unknown> {
  scope_kind: string;
  spent: number;
  reserved: number;
}

async function periods(scopeId: string): Promise<PeriodRow[]> {
  return withDb(
    async (db) =>
      (
        await db.execute<PeriodRow>(sql`
          select scope_kind, spent_usd_micros::float8 as spent, reserved_usd_micros::float8 as reserved
          from budget_periods where scope_id = ${scopeId} and period_start = ${budgetPeriod().start.toISOString()}
        `)
      ).rows,
  );
}

/** Reservations not yet settled or released, held for this key. */
async function openReservations(keyId: string): Promise<number> {
  return withDb(
    async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from budget_reservations where key_id = ${keyId}`)).rows[0]
        ?.n ?? -1,
  );
}

async function auditCount(action: string, targetId: string): Promise<number> {
  return withDb(
    async (db) =>
      (
        await db.execute<{ n: number }>(
          sql`select count(*)::int as n from audit_events where action = ${action} and target_id = ${targetId}`,
        )
      ).rows[0]?.n ?? 0,
  );
}

const HOUR_MS = 60 * 60 * 1000;

/** The smallest whole-cent budget that holds `count` quotes. */
const centsFor = (count: number, quote: number) => Math.ceil((count * quote) / 10_000) / 100;

describe("monthly budgets: set by a master key", () => {
  it("sets a key's budget at creation and with PATCH, removes it with null, and audits the change", async () => {
    const created = await api("/api/admin/keys", {
      key: master.key,
      body: { type: "project", name: "budgeted", projectSlug: `budget-${marker()}`, monthlyBudgetUsd: 12.5 },
    });
    expect(created.status).toBe(201);
    const key = ((await created.json()) as ApiBody<"createApiKey", 201>).data;
    expect(key.monthlyBudgetUsd).toBe(12.5);

    const patched = await setKeyBudget(key.id, 40);
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as ApiBody<"updateApiKey", 200>).data).toMatchObject({ id: key.id, monthlyBudgetUsd: 40 });
    const removed = await setKeyBudget(key.id, null);
    expect(((await removed.json()) as ApiBody<"updateApiKey", 200>).data.monthlyBudgetUsd).toBeNull();
    expect(await auditCount("key.budget_updated", key.id)).toBe(2);
  });

  it("sets a project's budget with PATCH, keeping its privacy, and audits it", async () => {
    const { scope } = await freshProjectKey();
    const response = await setProjectBudget(scope.project.id, 99.99);
    expect(response.status).toBe(200);
    expect(((await response.json()) as ApiBody<"updateProject", 200>).data).toEqual({
      id: scope.project.id,
      slug: scope.project.slug,
      private: false,
      monthlyBudgetUsd: 99.99,
    });
    expect(await auditCount("project.updated", scope.project.id)).toBe(1);
  });

  it("refuses invalid budgets naming the field, and changes nothing", async () => {
    const { scope, key } = await freshProjectKey();
    for (const bad of [0, -5, 1.234, 1_000_001, "10"]) {
      for (const response of [
        await setKeyBudget(key.id, bad as number),
        await setProjectBudget(scope.project.id, bad as number),
      ]) {
        expect(response.status, String(bad)).toBe(400);
        const problem = await readProblem(response);
        expect(problem.code).toBe("VALIDATION_ERROR");
        expect(problem.errors?.map((error) => error.field)).toEqual(["monthlyBudgetUsd"]);
      }
    }
    const masterBudget = await api("/api/admin/keys", {
      key: master.key,
      body: { type: "master", name: "ops", monthlyBudgetUsd: 5 },
    });
    expect((await readProblem(masterBudget)).errors?.map((error) => error.field)).toEqual(["monthlyBudgetUsd"]);
    const onMaster = await setKeyBudget(master.id, 5);
    expect(onMaster.status).toBe(400);
    expect((await readProblem(onMaster)).errors?.map((error) => error.field)).toEqual(["monthlyBudgetUsd"]);

    const stored = await withDb(
      async (db) =>
        (
          await db.execute<{ k: number | null; p: number | null }>(sql`
            select (select monthly_budget_usd_micros from api_keys where id = ${key.id}) as k,
                   (select monthly_budget_usd_micros from projects where id = ${scope.project.id}) as p
          `)
        ).rows[0],
    );
    expect(stored).toEqual({ k: null, p: null });
  });

  it("refuses a project key (403) and unknown ids (404)", async () => {
    const { scope, key } = await freshProjectKey();
    const asProject = await api(`/api/admin/keys/${key.id}`, { method: "PATCH", key: key.key, body: { monthlyBudgetUsd: 5 } });
    expect(asProject.status).toBe(403);
    const projectAsProject = await api(`/api/admin/projects/${scope.project.id}`, {
      method: "PATCH",
      key: key.key,
      body: { monthlyBudgetUsd: 5 },
    });
    expect(projectAsProject.status).toBe(403);
    expect((await readProblem(await setKeyBudget(crypto.randomUUID(), 5))).code).toBe("API_KEY_NOT_FOUND");
    expect((await readProblem(await setProjectBudget(crypto.randomUUID(), 5))).code).toBe("PROJECT_NOT_FOUND");
  });
});

describe("monthly budgets: spending stops before it happens", () => {
  it("admits exactly 3 of 50 concurrent requests when the key's budget has room for 3 quotes", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const quote = await quoteOf(key.key, promptWith(tag));
    const budget = centsFor(3, quote);
    expect(budget * 1_000_000).toBeLessThan(4 * quote);
    expect((await setKeyBudget(key.id, budget)).status).toBe(200);

    const responses = await Promise.all(Array.from({ length: 50 }, () => generate(key.key, promptWith(tag))));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 402)).toHaveLength(47);
    // The refused requests never reached the model.
    expect(await fakeRequests(tag)).toHaveLength(3);

    const refused = responses.find((response) => response.status === 402) as Response;
    const problem = await readProblem(refused);
    expect(problem.code).toBe("BUDGET_EXCEEDED");
    expect(problem.budget).toMatchObject({ scope: "key", monthlyBudgetUsd: budget, requestUpToUsd: quote / 1_000_000 });
    expect(problem.budget?.resetAt).toBe(budgetPeriod().resetAt.toISOString());
    expect(problem.detail).toContain(`$${budget.toFixed(2)}`);
    expect(problem.detail).toContain(budgetPeriod().resetAt.toISOString());
    expect(refused.headers.get("x-budget-reset")).toBe(budgetPeriod().resetAt.toISOString());

    // Settled to what the three cost; nothing held, nothing spent for the refused ones.
    const [period] = await periods(key.id);
    const admitted = await Promise.all(
      responses
        .filter((response) => response.status === 201)
        .map(async (response) => (await response.json()) as ApiBody<"textToImage", 201>),
    );
    // The budget is charged what each generation's answer says it cost (its billable usage).
    const actual = admitted.map(({ data }) => data.cost.usdMicros).reduce((sum, cost) => sum + cost, 0);
    expect(actual).toBeGreaterThan(0);
    const billed = await withDb(
      async (db) =>
        (
          await db.execute<{ micros: number }>(
            sql`select coalesce(sum(cost_usd_micros), 0)::float8 as micros from usage_events where api_key_id = ${key.id} and billable`,
          )
        ).rows[0]?.micros,
    );
    expect(billed).toBe(actual);
    expect(period).toEqual({ scope_kind: "key", spent: actual, reserved: 0 });
    for (const response of responses) await response.body?.cancel().catch(() => {});
  });

  it("checks the project's budget too: the tighter one refuses", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    const quote = await quoteOf(key.key, promptWith(tag));
    await setKeyBudget(key.id, 100);
    await setProjectBudget(scope.project.id, centsFor(1, quote));

    const first = await generate(key.key, promptWith(tag));
    expect(first.status).toBe(201);
    expect(first.headers.get("x-budget-scope")).toBe("project");
    const second = await generate(key.key, promptWith(tag));
    expect(second.status).toBe(402);
    const problem = await readProblem(second);
    expect(problem.budget).toMatchObject({ scope: "project", monthlyBudgetUsd: centsFor(1, quote) });
    expect(problem.budget?.spentUsd).toBeGreaterThan(0);
    expect(await fakeRequests(tag)).toHaveLength(1);
  });

  it("says in the headers what is left, the request's bound held until it settles", async () => {
    const { key } = await freshProjectKey();
    const tag = marker();
    const quote = await quoteOf(key.key, promptWith(tag));
    await setKeyBudget(key.id, 10);

    const response = await generate(key.key, promptWith(tag));
    expect(response.status).toBe(201);
    expect(response.headers.get("x-budget-scope")).toBe("key");
    expect(response.headers.get("x-budget-limit-usd")).toBe("10.000000");
    expect(response.headers.get("x-budget-remaining-usd")).toBe(((10_000_000 - quote) / 1_000_000).toFixed(6));
    expect(response.headers.get("x-budget-reset")).toBe(budgetPeriod().resetAt.toISOString());
  });

  it("sends no budget headers and reserves nothing without a budget", async () => {
    const { key } = await freshProjectKey();
    const response = await generate(key.key, promptWith(marker()));
    expect(response.status).toBe(201);
    expect(response.headers.get("x-budget-remaining-usd")).toBeNull();
    expect(await periods(key.id)).toEqual([]);
  });

  it("releases the reservation of a failed generation (upstream error, blocked, storage down): nothing spent, nothing held", async () => {
    const { scope, key } = await freshProjectKey();
    await setKeyBudget(key.id, 10);
    await setProjectBudget(scope.project.id, 10);

    const failures = [
      { directive: "[fake:status=400]", code: "UPSTREAM_ERROR" },
      { directive: "[fake:block=SAFETY]", code: "CONTENT_BLOCKED" },
      { directive: "[fake:finish=IMAGE_SAFETY]", code: "CONTENT_BLOCKED" },
      { directive: "", code: "STORAGE_UNAVAILABLE", env: { S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) } },
    ];
    for (const failure of failures) {
      const response = await api("/api/text-to-image", {
        key: key.key,
        body: { prompt: promptWith(marker(), failure.directive), autoEnhance: false },
        env: { ...GEMINI_ENV, ...failure.env },
      });
      expect((await readProblem(response)).code, failure.directive).toBe(failure.code);
    }
    expect(await periods(key.id)).toEqual([{ scope_kind: "key", spent: 0, reserved: 0 }]);
    expect(await periods(scope.project.id)).toEqual([{ scope_kind: "project", spent: 0, reserved: 0 }]);
    expect(await openReservations(key.id)).toBe(0);
  });

  it("frees the money held by requests that ended without settling, once past the generation budget, and never twice", async () => {
    const { scope, key } = await freshProjectKey();
    const prompt = promptWith(marker());
    const quote = await quoteOf(key.key, prompt);
    await setKeyBudget(key.id, centsFor(2, quote));
    await setProjectBudget(scope.project.id, 100);
    // Two requests reserved their bound, then their isolate went away before settling.
    const caller = { keyId: key.id, project: { id: scope.project.id } } as ProjectCaller;
    const stranded = await withDb(async (db) => [await reserveBudget(db, caller, quote), await reserveBudget(db, caller, quote)]);
    expect((await generate(key.key, prompt)).status).toBe(402);

    // As maintenance runs it: only reservations older than a generation can run are released.
    const release = () =>
      withDb((db) => releaseStaleReservations(db, { madeBefore: new Date(Date.now() - HOUR_MS), limit: 100 }));
    // Still young: they may yet settle.
    expect(await release()).toEqual({ released: 0 });
    expect((await generate(key.key, prompt)).status).toBe(402);

    // Two hours later (moved back in time here rather than waited for).
    await withDb((db) =>
      db.execute(sql`update budget_reservations set created_at = now() - interval '2 hours' where key_id = ${key.id}`),
    );
    expect(await release()).toEqual({ released: 2 });
    expect(await openReservations(key.id)).toBe(0);
    expect(await periods(key.id)).toEqual([{ scope_kind: "key", spent: 0, reserved: 0 }]);
    expect(await periods(scope.project.id)).toEqual([{ scope_kind: "project", spent: 0, reserved: 0 }]);

    // One of them settles after all: what it spent counts, its reservation is not released again.
    await withDb(async (db) => {
      const settled: Promise<unknown>[] = [];
      const context = { organizationId: scope.organization.id, client: { ip: null, userAgent: null } };
      budgetSettlement(
        { db, defer: (task) => settled.push(task()) },
        stranded[0] as NonNullable<(typeof stranded)[0]>,
        context,
      ).settle(1234);
      await Promise.all(settled);
    });
    expect(await periods(key.id)).toEqual([{ scope_kind: "key", spent: 1234, reserved: 0 }]);

    const admitted = await generate(key.key, prompt);
    expect(admitted.status).toBe(201);
    expect(await openReservations(key.id)).toBe(0);
  });

  it("audits the 80% threshold once per period, and GET /api/me shows the budgets", async () => {
    const { scope, key } = await freshProjectKey();
    const tag = marker();
    const quote = await quoteOf(key.key, promptWith(tag));
    // Room for 2 quotes; one actual image costs over 40% of it, so the second crosses 80%.
    const budget = centsFor(2, quote);
    await setKeyBudget(key.id, budget);

    const before = await api("/api/me", { key: key.key });
    const beforeData = ((await before.json()) as ApiBody<"getMe", 200>).data;
    expect(beforeData.budgets).toEqual({
      key: {
        monthlyBudgetUsd: budget,
        spentUsd: 0,
        reservedUsd: 0,
        remainingUsd: budget,
        softThreshold: 0.8,
        thresholdReached: false,
        resetAt: budgetPeriod().resetAt.toISOString(),
      },
      project: null,
    });

    for (let i = 0; i < 2; i++) expect((await generate(key.key, promptWith(tag))).status).toBe(201);
    expect((await generate(key.key, promptWith(tag))).status).toBe(402);
    expect(await auditCount("budget.threshold_reached", key.id)).toBe(1);
    // Raised to room for one more: spending again ends above the threshold, and is not audited again.
    await setKeyBudget(key.id, centsFor(3, quote));
    expect((await generate(key.key, promptWith(tag))).status).toBe(201);
    await setProjectBudget(scope.project.id, 500);

    expect(await auditCount("budget.threshold_reached", key.id)).toBe(1);
    const [period] = await periods(key.id);
    const after = ((await (await api("/api/me", { key: key.key })).json()) as ApiBody<"getMe", 200>).data;
    expect(after.budgets.key).toMatchObject({
      spentUsd: (period?.spent ?? 0) / 1_000_000,
      reservedUsd: 0,
      thresholdReached: true,
    });
    expect(after.budgets.key?.spentUsd).toBeGreaterThanOrEqual(0.8 * centsFor(3, quote));
    // A budget counts spending from when it is set.
    expect(after.budgets.project).toMatchObject({ monthlyBudgetUsd: 500, spentUsd: 0 });
  });
});
