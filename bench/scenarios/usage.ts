import type { Pool } from "@neondatabase/serverless";
import { withNeonPool } from "../../dev/stack/migrations.ts";
import { timeSequential } from "../measure.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 150);
const LARGE_EVENTS = Number(process.env.BENCH_USAGE_EVENTS ?? 1_000_000);

/**
 * Seeds `count` usage events for a new project's key, over the current UTC month, by SQL; the
 * daily rollup is summed from them as the migration that created it did (the service adds to it
 * event by event, which a bulk load does not go through). Returns the key.
 */
async function seedUsage(pool: Pool, masterKey: string, workerUrl: string, projectSlug: string, count: number) {
  const project = await pool.query(
    `with organization as (
       insert into organizations (slug, name) values ('default', 'default')
       on conflict (slug) do update set slug = excluded.slug returning id)
     insert into projects (organization_id, slug, name) select id, $1, $1 from organization returning id, organization_id`,
    [projectSlug],
  );
  const { id: projectId, organization_id: organizationId } = project.rows[0] as { id: string; organization_id: string };
  const created = await fetch(`${workerUrl}/api/admin/keys`, {
    method: "POST",
    headers: { "X-API-Key": masterKey, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "project", name: projectSlug, projectId, rateLimitPerHour: 1_000_000 }),
  });
  const { data: key } = (await created.json()) as { data: { id: string; apiKey: string } };
  await pool.query(
    `insert into usage_events (organization_id, project_id, api_key_id, kind, provider, model, input_text_tokens,
                               output_image_tokens, cost_usd_micros, price_version, billable, created_at)
     select $1, $2, $3, case when g % 2 = 0 then 'generation' else 'enhancement' end, 'gemini',
            case when g % 2 = 0 then 'gemini-2.5-flash-image' else 'gemini-2.5-flash' end,
            20, case when g % 2 = 0 then 1290 else 0 end, case when g % 2 = 0 then 38706 else 30 end, 'bench', g % 50 <> 0,
            date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' + ((g % 28) || ' days')::interval + ((g % 86400) || ' seconds')::interval
     from generate_series(1, $4) g`,
    [organizationId, projectId, key.id, count],
  );
  await pool.query(
    `insert into usage_daily (day, organization_id, project_id, api_key_id, provider, model, billable,
                              requests, images, input_tokens, output_tokens, cost_usd_micros)
     select (created_at at time zone 'UTC')::date, organization_id, project_id, api_key_id, provider, model, billable,
            count(*), count(*) filter (where kind = 'generation'), sum(input_text_tokens + input_image_tokens),
            sum(output_text_tokens + output_image_tokens), coalesce(sum(cost_usd_micros), 0)
     from usage_events where project_id = $1 group by 1, 2, 3, 4, 5, 6, 7`,
    [projectId],
  );
  return key.apiKey;
}

/**
 * GET /api/usage for this month at 1,000 and at 1,000,000 events (seeded in bulk by SQL): it reads
 * the daily rollups, so its cost follows the days and models asked for, not the events behind them.
 */
export const usageScenario: Scenario = {
  name: "usage",
  async run({ platform }) {
    const { stack, worker } = platform;
    const { keys, seedSeconds } = await withNeonPool(stack.postgres.url, stack.workerVars.DATABASE_WS_PROXY, async (pool) => {
      const started = performance.now();
      const keys = {
        "1,000": await seedUsage(pool, platform.masterKey, worker.url, "usage-1k", 1_000),
        [LARGE_EVENTS.toLocaleString("en")]: await seedUsage(pool, platform.masterKey, worker.url, "usage-1m", LARGE_EVENTS),
      };
      await pool.query("vacuum analyze usage_daily");
      return { keys, seedSeconds: (performance.now() - started) / 1000 };
    });
    const usage = (key: string, query: string) => () =>
      fetch(`${worker.url}/api/usage${query}`, { headers: { "X-API-Key": key } });

    const measurements = [];
    for (const [label, query] of [
      ["this month by day", ""],
      ["this month by model", "?groupBy=model"],
    ] as const) {
      for (const [size, key] of Object.entries(keys))
        measurements.push(await timeSequential(`${label}, ${size} events`, usage(key, query), SAMPLES));
    }
    const [small, large, smallByModel, largeByModel] = measurements as [
      (typeof measurements)[number],
      (typeof measurements)[number],
      (typeof measurements)[number],
      (typeof measurements)[number],
    ];
    return {
      scenario: "usage",
      description: `GET /api/usage at 1,000 vs ${LARGE_EVENTS.toLocaleString("en")} usage events: ${SAMPLES} sequential requests each`,
      measurements,
      metrics: {
        usage1mVs1k: large.medianMs / small.medianMs,
        usageByModel1mVs1k: largeByModel.medianMs / smallByModel.medianMs,
      },
      notes: [`${(LARGE_EVENTS + 1_000).toLocaleString("en")} events and their rollups seeded in ${seedSeconds.toFixed(0)} s`],
    };
  },
};
