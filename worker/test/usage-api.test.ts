import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import type { NewUsageEvent } from "../src/db/schema";
import { PRICE_VERSION } from "../src/domain/pricing";
import { recordUsage } from "../src/services/usage";
import { api, readProblem } from "./support/app";
import { createProject, insertKey, type TestKey, type TestProject, uniqueSlug, withDb } from "./support/fixtures";
import { GEMINI_ENV, marker } from "./support/generation";

/**
 * GET /api/usage and its CSV export read the daily rollups; these tests seed usage through real
 * generations (the Gemini-protocol fake and the offline preview model) and through the service
 * that records usage, then hold the answers to the raw sums of `usage_events`.
 */

type UsagePage = ApiBody<"getUsage", 200>["data"];
type UsageResult = UsagePage["data"][number]["results"][number];

const DAY = 86_400;
const today = new Date().toISOString().slice(0, 10);
const dayOffset = (days: number) => new Date(Date.parse(`${today}T00:00:00Z`) + days * DAY * 1000).toISOString().slice(0, 10);
const todayRange = `from=${today}&to=${dayOffset(1)}`;

let master: TestKey;
let projectA: TestProject;
let projectB: TestProject;
let keyA1: TestKey;
let keyA2: TestKey;
let keyB: TestKey;

/** A usage event as the usage service records it, with the sums a test can predict. */
function event(scope: TestProject, key: TestKey, fields: Partial<NewUsageEvent>): NewUsageEvent {
  return {
    organizationId: scope.organization.id,
    projectId: scope.project.id,
    apiKeyId: key.id,
    generationId: null,
    kind: "generation",
    provider: "gemini",
    model: "gemini-2.5-flash-image",
    inputTextTokens: 10,
    outputImageTokens: 1290,
    costUsdMicros: 38_703,
    priceVersion: PRICE_VERSION,
    billable: true,
    ...fields,
  };
}

async function generate(key: TestKey, body: Record<string, unknown>, env: Record<string, unknown>) {
  return api("/api/text-to-image", { key: key.key, body, env });
}

beforeAll(async () => {
  const organization = uniqueSlug("usage-org");
  ({ master, projectA, projectB, keyA1, keyA2, keyB } = await withDb(async (db) => {
    const projectA = await createProject(db, organization);
    const projectB = await createProject(db, organization);
    return {
      master: await insertKey(db, { type: "master" }),
      projectA,
      projectB,
      keyA1: await insertKey(db, { type: "project", scope: projectA }),
      keyA2: await insertKey(db, { type: "project", scope: projectA }),
      keyB: await insertKey(db, { type: "project", scope: projectB }),
    };
  }));
  // Real generations: a billed Gemini image, a refusal Gemini charged for, and the free preview model.
  expect((await generate(keyA1, { prompt: `a kite ${marker()}`, autoEnhance: false }, GEMINI_ENV)).status).toBe(201);
  expect(
    (await generate(keyA1, { prompt: `a kite ${marker()} [fake:block=SAFETY]`, autoEnhance: false }, GEMINI_ENV)).status,
  ).toBe(422);
  expect((await generate(keyA2, { prompt: "a red bicycle" }, {})).status).toBe(201);
  // An enhancement on its own, recorded after its response.
  expect((await api("/api/enhance", { key: keyA2.key, body: { prompt: "a blue kite" }, env: {} })).status).toBe(200);
  // Usage recorded directly, with a model name that needs quoting in CSV.
  await withDb(async (db) => {
    await recordUsage(
      db,
      [
        event(projectA, keyA2, {}),
        event(projectA, keyA2, { model: 'odd "model", v2', kind: "enhancement", costUsdMicros: 1_500, outputImageTokens: 0 }),
      ],
      { queueForBilling: false },
    );
    await recordUsage(db, [event(projectA, keyA2, {})], { queueForBilling: false });
    await recordUsage(db, [event(projectB, keyB, { costUsdMicros: 1_000_000 })], { queueForBilling: false });
  });
});

type RawSums = { images: number; requests: number; input_tokens: number; output_tokens: number; cost: number };

/** The billable sums of the raw events of today, in a project (or of one key), by a column or in all. */
async function rawSums(where: { projectId?: string; keyId?: string }, by = sql`null::text`, billable = true) {
  return withDb(async (db) => {
    const result = await db.execute<RawSums & { grouped: string | null }>(sql`
      select ${by} as grouped, count(*) filter (where kind = 'generation')::int as images, count(*)::int as requests,
             sum(input_text_tokens + input_image_tokens)::int as input_tokens,
             sum(output_text_tokens + output_image_tokens)::int as output_tokens,
             coalesce(sum(cost_usd_micros), 0)::int as cost
      from usage_events
      where billable = ${billable} and created_at >= ${today}::date and created_at < ${dayOffset(1)}::date
        and (${where.projectId ?? null}::uuid is null or project_id = ${where.projectId ?? null}::uuid)
        and (${where.keyId ?? null}::uuid is null or api_key_id = ${where.keyId ?? null}::uuid)
      group by 1 order by 1
    `);
    return result.rows;
  });
}

/** A result's sums in the raw events' terms. */
function sumsOf(result: UsageResult): RawSums {
  return {
    images: result.images,
    requests: result.requests,
    input_tokens: result.input_tokens,
    output_tokens: result.output_tokens,
    cost: Math.round(result.amount.value * 1_000_000),
  };
}

/** The sums of a raw row, without the column it was grouped by. */
function sumsOfRaw(row: (RawSums & { grouped: string | null }) | undefined): RawSums | undefined {
  if (!row) return undefined;
  const { grouped: _grouped, ...sums } = row;
  return sums;
}

async function usage(key: TestKey, query: string): Promise<UsagePage> {
  const response = await api(`/api/usage?${query}`, { key: key.key });
  expect(response.status).toBe(200);
  return ((await response.json()) as ApiBody<"getUsage", 200>).data;
}

describe("GET /api/usage", () => {
  it("answers one bucket per UTC day of the range, with the day's billable sums in dollars", async () => {
    const page = await usage(keyA1, `from=${dayOffset(-1)}&to=${dayOffset(2)}`);
    expect(page.object).toBe("page");
    expect(page.data.map((bucket) => [bucket.start_time, bucket.end_time])).toEqual(
      [-1, 0, 1].map((offset) => [
        Date.parse(`${dayOffset(offset)}T00:00:00Z`) / 1000,
        Date.parse(`${dayOffset(offset + 1)}T00:00:00Z`) / 1000,
      ]),
    );
    expect(page.data[0]?.results).toEqual([]);
    expect(page.data[2]?.results).toEqual([]);
    const [result] = page.data[1]?.results ?? [];
    const [raw] = await rawSums({ projectId: projectA.project.id });
    expect(result && sumsOf(result)).toEqual(sumsOfRaw(raw));
    expect(result).toMatchObject({ object: "organization.usage.result", amount: { currency: "usd" }, project_id: null });
    // The Gemini image, the preview image and two recorded image calls: the refusal is not billed.
    expect(result?.images).toBe(4);
    expect(result?.amount.value).toBeCloseTo((raw?.cost ?? 0) / 1_000_000, 6);
    expect(result).not.toHaveProperty("non_billable_amount");
  });

  it.each([
    ["key", sql`api_key_id::text`, "api_key_id"],
    ["model", sql`model`, "model"],
  ] as const)("splits each day by %s, each result summing its own events", async (groupBy, column, field) => {
    const page = await usage(keyA2, `${todayRange}&groupBy=${groupBy}`);
    const results = page.data[0]?.results ?? [];
    const raw = await rawSums({ projectId: projectA.project.id }, column);
    expect(results.map((result) => ({ grouped: result[field], ...sumsOf(result) }))).toEqual(raw);
    expect(results.length).toBeGreaterThan(1);
  });

  it("shows a project key its own project only: another project's usage is invisible, and asking for it is a 404", async () => {
    const page = await usage(keyA1, `${todayRange}&groupBy=project`);
    expect(page.data[0]?.results.map((result) => result.project_id)).toEqual([projectA.project.id]);

    const otherProject = await api(`/api/usage?projectId=${projectB.project.id}`, { key: keyA1.key });
    expect(otherProject.status).toBe(404);
    expect((await readProblem(otherProject)).code).toBe("NOT_FOUND");
    const otherKey = await api(`/api/usage?keyId=${keyB.id}`, { key: keyA1.key });
    expect(otherKey.status).toBe(404);
    expect((await readProblem(otherKey)).code).toBe("NOT_FOUND");

    const ownKey = await usage(keyA1, `${todayRange}&keyId=${keyA2.id}`);
    const [raw] = await rawSums({ keyId: keyA2.id });
    expect(ownKey.data[0]?.results.map(sumsOf)).toEqual([sumsOfRaw(raw)]);
  });

  it("shows a master key every project, filtered by project or key, with what was not billed", async () => {
    const byProject = await usage(master, `${todayRange}&groupBy=project`);
    const projects = byProject.data[0]?.results ?? [];
    const resultB = projects.find((result) => result.project_id === projectB.project.id);
    expect(resultB && sumsOf(resultB)).toEqual({
      images: 1,
      requests: 1,
      input_tokens: 10,
      output_tokens: 1290,
      cost: 1_000_000,
    });
    expect(projects.some((result) => result.project_id === projectA.project.id)).toBe(true);

    const onlyB = await usage(master, `${todayRange}&projectId=${projectB.project.id}`);
    expect(onlyB.data[0]?.results.map((result) => result.amount)).toEqual([{ value: 1, currency: "usd" }]);

    const keyA1Usage = await usage(master, `${todayRange}&keyId=${keyA1.id}`);
    const [result] = keyA1Usage.data[0]?.results ?? [];
    const [refused] = await rawSums({ keyId: keyA1.id }, sql`null::text`, false);
    expect(refused?.cost).toBeGreaterThan(0);
    expect(result?.non_billable_requests).toBe(refused?.requests);
    expect(result?.non_billable_amount).toEqual({ value: (refused?.cost ?? 0) / 1_000_000, currency: "usd" });
    expect(result?.images).toBe(1);
  });

  it.each([
    ["from=2026-03-01&to=2026-03-01", "to"],
    ["from=2026-03-02&to=2026-03-01", "to"],
    ["from=2025-01-01&to=2026-01-03", "to"],
    ["from=2026-03-01T12:00:00Z&to=2026-03-05", "from"],
    ["from=yesterday", "from"],
    ["to=2026-03-01T00:00:00.5Z", "to"],
    ["groupBy=week", "groupBy"],
    ["keyId=not-a-uuid", "keyId"],
  ])("refuses %s, naming %s", async (query, field) => {
    const response = await api(`/api/usage?${query}`, { key: master.key });
    expect(response.status).toBe(400);
    const problem = await readProblem(response);
    expect(problem.code).toBe("VALIDATION_ERROR");
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
  });

  it("defaults to the current UTC month", async () => {
    const page = await usage(keyA1, "");
    const now = new Date();
    const days = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    expect(page.data).toHaveLength(days);
    expect(page.data[0]?.start_time).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) / 1000);
  });
});

/** RFC 4180: rows of fields (CRLF after each row), quoted fields unquoted. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  // A field, quoted (its quotes doubled) or plain, then a comma, a line end or the end of the text.
  for (const [, quoted, plain, end] of text.replace(/\r\n$/, "").matchAll(/(?:"((?:[^"]|"")*)"|([^",\r\n]*))(,|\r\n|$)/g)) {
    row.push(quoted === undefined ? (plain ?? "") : quoted.replaceAll('""', '"'));
    if (end === ",") continue;
    rows.push(row);
    row = [];
    if (end === "") break;
  }
  return rows;
}

describe("GET /api/usage/export.csv", () => {
  it.each([
    ["a project key", () => keyA2, () => "groupBy=model"],
    ["a master key", () => master, () => `groupBy=key&projectId=${projectA.project.id}`],
  ])("streams the same results as the JSON, for %s", async (_who, key, filter) => {
    const query = filter();
    const page = await usage(key(), `${todayRange}&${query}`);
    const response = await api(`/api/usage/export.csv?${todayRange}&${query}`, { key: key().key });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="usage-${today}-${dayOffset(1)}.csv"`);
    const [header, ...rows] = parseCsv(await response.text());
    const fromJson = page.data.flatMap((bucket) =>
      bucket.results.map((result) =>
        [
          bucket.start_time,
          bucket.end_time,
          result.project_id ?? "",
          result.api_key_id ?? "",
          result.model ?? "",
          result.images,
          result.requests,
          result.input_tokens,
          result.output_tokens,
          result.amount.value,
          result.amount.currency,
          ...(key() === master ? [result.non_billable_requests, result.non_billable_amount?.value] : []),
        ].map(String),
      ),
    );
    expect(header?.slice(0, 5)).toEqual(["start_time", "end_time", "project_id", "api_key_id", "model"]);
    expect(rows).toEqual(fromJson);
    expect(rows.length).toBeGreaterThan(1);
  });

  it("quotes a field with a comma or a quote (RFC 4180)", async () => {
    const response = await api(`/api/usage/export.csv?${todayRange}&groupBy=model`, { key: keyA2.key });
    expect(await response.text()).toContain(`,"odd ""model"", v2",`);
  });
});

describe("daily rollups", () => {
  it("equal the raw sums of the events, by day, key, provider, model and billability", async () => {
    const projectIds = [projectA.project.id, projectB.project.id];
    const [raw, rollup] = await withDb(async (db) =>
      Promise.all([
        db.execute(sql`
          select (created_at at time zone 'UTC')::date::text as day, api_key_id, provider, model, billable,
                 count(*)::int as requests, (count(*) filter (where kind = 'generation'))::int as images,
                 sum(input_text_tokens + input_image_tokens)::int as input_tokens,
                 sum(output_text_tokens + output_image_tokens)::int as output_tokens,
                 coalesce(sum(cost_usd_micros), 0)::int as cost
          from usage_events where project_id in (${sql.join(projectIds, sql`, `)})
          group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5`),
        db.execute(sql`
          select day::text as day, api_key_id, provider, model, billable, requests, images,
                 input_tokens::int, output_tokens::int, cost_usd_micros::int as cost
          from usage_daily where project_id in (${sql.join(projectIds, sql`, `)})
          order by 1, 2, 3, 4, 5`),
      ]),
    );
    expect(rollup.rows).toEqual(raw.rows);
    // Gemini and preview calls, billable and not, from generations and recorded directly.
    expect(new Set(raw.rows.map((row) => `${row.provider}/${row.billable}`)).size).toBe(3);
  });
});
