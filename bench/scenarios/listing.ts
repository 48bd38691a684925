import { withNeonPool } from "../../dev/stack/migrations.ts";
import { timeSequential } from "../measure.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 150);

/** Listing a project's images at 1,000 and at 100,000 (seeded in bulk by SQL, not the API). */
export const listingScenario: Scenario = {
  name: "listing",
  async run({ platform }) {
    const { stack, worker } = platform;
    const seed = (projectSlug: string, count: number) =>
      withNeonPool(stack.postgres.url, stack.workerVars.DATABASE_WS_PROXY, async (pool) => {
        const project = await pool.query(
          "insert into projects (organization_id, slug, name) select id, $1, $1 from organizations where slug = 'default' returning id",
          [projectSlug],
        );
        const projectId = project.rows[0].id as string;
        await pool.query(
          `insert into images (project_id, category, storage_key, mime_type, bytes, width, height, sha256, aspect_ratio, search_text, created_at)
           select $1, 'generated', 'default/' || $2 || '/generated/' || g || '.png', 'image/png', 1000, 1024, 1024, md5(g::text), '1:1',
                  'prompt number ' || g, now() - (g || ' seconds')::interval
           from generate_series(1, $3) g`,
          [projectId, projectSlug, count],
        );
        await pool.query("analyze images");
        const created = await fetch(`${worker.url}/api/admin/keys`, {
          method: "POST",
          headers: { "X-API-Key": platform.masterKey, "Content-Type": "application/json" },
          body: JSON.stringify({ type: "project", name: projectSlug, projectId, rateLimitPerHour: 1_000_000 }),
        });
        return ((await created.json()) as { data: { apiKey: string } }).data.apiKey;
      });
    const keys = { "1,000": await seed("list-1k", 1_000), "100,000": await seed("list-100k", 100_000) };
    const list = (key: string, query: string) => () =>
      fetch(`${worker.url}/api/images/generated${query}`, { headers: { "X-API-Key": key } });

    const measurements = [];
    for (const [label, query] of [
      ["newest 30", ""],
      ["text search", "?q=number%2077"],
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
      description: `Listing at 1,000 vs 100,000 images: ${SAMPLES} sequential requests each`,
      measurements,
      metrics: {
        listing100kVs1k: large.medianMs / small.medianMs,
        listingSearch100kVs1k: largeSearch.medianMs / smallSearch.medianMs,
      },
      notes: [],
    };
  },
};
