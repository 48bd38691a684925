import type { Pool } from "@neondatabase/serverless";
import { withNeonPool } from "../../dev/stack/migrations.ts";
import { timeSequential } from "../measure.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 150);
/** The other tenant's images: enough that a plan reading every tenant's matches shows. */
const NEIGHBOUR_IMAGES = Number(process.env.BENCH_NEIGHBOUR_IMAGES ?? 1_000_000);
/** Matches 1 image in 1,000 and 1,111 in the neighbour's million ("number 777", "number 7770", ...). */
const SEARCH = "number 777";

/** Inserts `count` generated images into a new project of `organizationSlug` (created if new), by SQL. */
async function seedProject(pool: Pool, organizationSlug: string, projectSlug: string, count: number): Promise<string> {
  const project = await pool.query(
    `with organization as (
       insert into organizations (slug, name) values ($1, $1)
       on conflict (slug) do update set slug = excluded.slug returning id)
     insert into projects (organization_id, slug, name) select id, $2, $2 from organization returning id`,
    [organizationSlug, projectSlug],
  );
  const projectId = project.rows[0].id as string;
  await pool.query(
    `insert into images (project_id, category, storage_key, mime_type, bytes, width, height, sha256, aspect_ratio, search_text, created_at)
     select $1, 'generated', $2 || '/' || $3 || '/generated/' || g || '.png', 'image/png', 1000, 1024, 1024, md5(g::text), '1:1',
            'prompt number ' || g, now() - (g || ' seconds')::interval
     from generate_series(1, $4) g`,
    [projectId, organizationSlug, projectSlug, count],
  );
  return projectId;
}

/**
 * Listing a project's images at 1,000 and at 100,000, newest first and with a text search, while
 * another tenant holds 1,000,000 (all seeded in bulk by SQL, not the API): a page and a search
 * must cost what the project holds, not what the table holds. The search plan is reported.
 */
export const listingScenario: Scenario = {
  name: "listing",
  async run({ platform }) {
    const { stack, worker } = platform;
    const { keys, neighbourSeconds, plan } = await withNeonPool(
      stack.postgres.url,
      stack.workerVars.DATABASE_WS_PROXY,
      async (pool) => {
        const started = performance.now();
        await seedProject(pool, "bench-neighbour", "archive", NEIGHBOUR_IMAGES);
        const neighbourSeconds = (performance.now() - started) / 1000;
        const projects = {
          "1,000": await seedProject(pool, "default", "list-1k", 1_000),
          "100,000": await seedProject(pool, "default", "list-100k", 100_000),
        };
        // A table in use has its statistics, and its GIN indexes' pending entries merged (by
        // autovacuum): without this, the first searches read the bulk load's pending list.
        await pool.query("vacuum analyze images");
        const keys: Record<string, string> = {};
        for (const [size, projectId] of Object.entries(projects)) {
          const created = await fetch(`${worker.url}/api/admin/keys`, {
            method: "POST",
            headers: { "X-API-Key": platform.masterKey, "Content-Type": "application/json" },
            body: JSON.stringify({ type: "project", name: `list ${size}`, projectId, rateLimitPerHour: 1_000_000 }),
          });
          keys[size] = ((await created.json()) as { data: { apiKey: string } }).data.apiKey;
        }
        // The shape of the listing query (services/images.ts): which index each project's search reads.
        const plan: string[] = [];
        for (const [size, projectId] of Object.entries(projects)) {
          const explain = () =>
            pool.query(
              `explain (analyze, costs off) select images.*, generations.original_prompt from images left join generations on generations.id = images.generation_id
             where images.project_id = $1 and images.category in ('generated') and images.deleted_at is null
               and images.search_text like $2
             order by images.created_at desc, images.id desc limit 31`,
              [projectId, `%${SEARCH}%`],
            );
          // The second run, as the measured requests find the index in memory.
          await explain();
          const explained = await explain();
          const lines = explained.rows.map((row: Record<string, string>) => (row["QUERY PLAN"] ?? "").trim());
          plan.push(`${size} images: ${lines.filter((line) => /Scan|BitmapAnd|Execution Time/.test(line)).join(" / ")}`);
        }
        return { keys, neighbourSeconds, plan };
      },
    );
    const list = (key: string, query: string) => () =>
      fetch(`${worker.url}/api/images/generated${query}`, { headers: { "X-API-Key": key } });

    const measurements = [];
    for (const [label, query] of [
      ["newest 30", ""],
      [`text search "${SEARCH}"`, `?q=${encodeURIComponent(SEARCH)}`],
    ] as const) {
      for (const [size, key] of Object.entries(keys))
        measurements.push(await timeSequential(`${label}, ${size} images`, list(key, query), SAMPLES));
    }
    const [small, large, smallSearch, largeSearch] = measurements as [
      (typeof measurements)[number],
      (typeof measurements)[number],
      (typeof measurements)[number],
      (typeof measurements)[number],
    ];
    return {
      scenario: "listing",
      description: `Listing at 1,000 vs 100,000 images beside a tenant with ${NEIGHBOUR_IMAGES.toLocaleString("en")}: ${SAMPLES} sequential requests each`,
      measurements,
      metrics: {
        listing100kVs1k: large.medianMs / small.medianMs,
        listingSearch100kVs1k: largeSearch.medianMs / smallSearch.medianMs,
        searchVsListing1k: smallSearch.medianMs / small.medianMs,
      },
      notes: [
        `the neighbour's ${NEIGHBOUR_IMAGES.toLocaleString("en")} images seeded in ${neighbourSeconds.toFixed(0)} s`,
        ...plan.map((line) => `search plan (EXPLAIN ANALYZE), ${line}`),
      ],
    };
  },
};
