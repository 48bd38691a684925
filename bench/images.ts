/**
 * `npm run bench:images`: image delivery and listing, each against its comparison in one run.
 *
 * Serving a ~200 KB image with autocannon (10 connections, after a warm-up):
 *   edge-cache hit  vs  storage on a miss (a second Worker with IMAGE_EDGE_CACHE=off)
 *   vs  a presigned GET straight to the S3 server, without the Worker.
 * Listing a project's newest 30 images at 1,000 and at 100,000 images (seeded in bulk by SQL).
 */

import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { AwsClient } from "aws4fetch";
import { encodeRgbPng } from "../dev/gemini-fake/png.ts";
import { withNeonPool } from "../dev/stack/migrations.ts";
import { freePort } from "../dev/stack/ports.ts";
import { startWranglerDev } from "../dev/stack/wrangler.ts";
import { percentile, startBenchPlatform } from "./support.ts";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = 10;
const LIST_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 150);

/** A PNG of noise: incompressible, so 260x260 RGB is about 200 KB. */
function noisePng(size: number): Buffer {
  return encodeRgbPng(size, size, (row) => {
    for (let i = 0; i < row.length; i++) row[i] = Math.floor(Math.random() * 256);
  });
}

async function load(url: string): Promise<{ rps: number; median: number; p99: number; errors: number; non2xx: number }> {
  await autocannon({ url, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  return {
    rps: result.requests.average,
    median: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function main() {
  const platform = await startBenchPlatform("images");
  const { worker, stack, projectKey } = platform;
  // The same stack behind a second Worker that never uses the edge cache: every GET is a miss.
  const noCacheVars = path.join(os.tmpdir(), `banatie-bench-nocache-${process.pid}.vars`);
  await writeFile(
    noCacheVars,
    Object.entries({ ...stack.workerVars, IMAGE_EDGE_CACHE: "off" })
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
  );
  const uncached = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [noCacheVars],
    persistTo: path.join(os.tmpdir(), `banatie-bench-nocache-${process.pid}`),
    output: "ignore",
  });

  try {
    const png = noisePng(260);
    const form = new FormData();
    form.append("file", new File([new Uint8Array(png)], "noise.png", { type: "image/png" }));
    const uploaded = await fetch(`${worker.url}/api/upload`, {
      method: "POST",
      headers: { "X-API-Key": projectKey },
      body: form,
    });
    const { data } = (await uploaded.json()) as { data: { url: string } };
    const imagePath = new URL(data.url).pathname;
    const key = imagePath.replace("/api/images/", "");

    const s3 = new AwsClient({
      accessKeyId: stack.s3.accessKeyId,
      secretAccessKey: stack.s3.secretAccessKey,
      service: "s3",
      region: "us-east-1",
    });
    const presigned = await s3.sign(`${stack.s3.endpoint}/${stack.s3.bucket}/${key}?X-Amz-Expires=3600`, {
      method: "GET",
      aws: { signQuery: true },
    });

    const hit = await load(`${worker.url}${imagePath}`);
    const miss = await load(`${uncached.url}${imagePath}`);
    const direct = await load(presigned.url);

    // Listing: bulk-seed two projects, then time the first page of each, interleaved.
    const seed = async (projectSlug: string, count: number) =>
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
    const smallKey = await seed("list-1k", 1_000);
    const largeKey = await seed("list-100k", 100_000);
    const timeList = async (apiKey: string, query: string) => {
      const started = performance.now();
      const response = await fetch(`${worker.url}/api/images/generated${query}`, { headers: { "X-API-Key": apiKey } });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`listing answered ${response.status}`);
      return performance.now() - started;
    };
    const lists: Record<string, number[]> = {
      small: [],
      large: [],
      smallDeep: [],
      largeDeep: [],
      smallSearch: [],
      largeSearch: [],
    };
    const deepCursor = async (apiKey: string) => {
      let cursor = "";
      for (let i = 0; i < 5; i++) {
        const page = (await (
          await fetch(`${worker.url}/api/images/generated?limit=100${cursor}`, { headers: { "X-API-Key": apiKey } })
        ).json()) as {
          pagination: { nextCursor: string };
        };
        cursor = `&cursor=${page.pagination.nextCursor}`;
      }
      return cursor;
    };
    const [smallCursor, largeCursor] = [await deepCursor(smallKey), await deepCursor(largeKey)];
    for (let i = 0; i < 20; i++) await timeList(largeKey, "");
    for (let i = 0; i < LIST_SAMPLES; i++) {
      lists.small?.push(await timeList(smallKey, ""));
      lists.large?.push(await timeList(largeKey, ""));
      lists.smallDeep?.push(await timeList(smallKey, `?limit=30${smallCursor}`));
      lists.largeDeep?.push(await timeList(largeKey, `?limit=30${largeCursor}`));
      lists.smallSearch?.push(await timeList(smallKey, "?q=number 77"));
      lists.largeSearch?.push(await timeList(largeKey, "?q=number 77"));
    }

    console.log(
      `\nImage delivery: ~${Math.round(png.length / 1024)} KB PNG, autocannon ${CONNECTIONS} connections x ${DURATION_S} s each, ${os.cpus().length} cores\n`,
    );
    console.log("| path | requests/s | median ms | p99 ms | errors |");
    console.log("|---|---|---|---|---|");
    for (const [name, result] of [
      ["Worker, edge-cache hit", hit],
      ["Worker, storage (cache off)", miss],
      ["S3 server directly (presigned GET)", direct],
    ] as const) {
      console.log(`| ${name} | ${result.rps.toFixed(0)} | ${result.median} | ${result.p99} | ${result.errors + result.non2xx} |`);
    }
    console.log(`\nCache hit throughput / direct S3 GET: ${(hit.rps / direct.rps).toFixed(2)}x (target: at least 1x)`);

    const median = (name: string) => percentile(lists[name] ?? [], 50);
    console.log(`\nListing, ${LIST_SAMPLES} sequential samples each (first page of 30; page 6 by cursor; text search):\n`);
    console.log("| query | 1,000 images median ms | 100,000 images median ms | ratio |");
    console.log("|---|---|---|---|");
    for (const [label, small, large] of [
      ["newest 30", "small", "large"],
      ["after 500, by cursor", "smallDeep", "largeDeep"],
      ["q=number 77", "smallSearch", "largeSearch"],
    ] as const) {
      console.log(
        `| ${label} | ${median(small).toFixed(1)} | ${median(large).toFixed(1)} | ${(median(large) / median(small)).toFixed(2)} |`,
      );
    }
    console.log("(target: 100,000 within 1.5x of 1,000)");
  } finally {
    await uncached.stop();
    await platform.stop();
  }
}

await main();
