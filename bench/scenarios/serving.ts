import { execFileSync, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { encodeRgbPng } from "../../dev/gemini-fake/png.ts";
import { freePort } from "../../dev/stack/ports.ts";
import { loadTest, loadTestInTurns } from "../measure.ts";
import { buildWorkerBundle, type WorkerBundle } from "../miniflare-worker.ts";
import type { Measurement, Scenario } from "./types.ts";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);

/** A PNG of noise: incompressible, as real images are, so 260x260 RGB is about 200 KB. */
function noisePng(size: number): Buffer {
  return encodeRgbPng(size, size, (row) => {
    for (let i = 0; i < row.length; i++) row[i] = Math.floor(Math.random() * 256);
  });
}

function hasNginx(): boolean {
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** nginx serving the file from disk: the ceiling for a static file on this machine. */
async function startNginx(file: Buffer): Promise<{ url: string; stop(): void }> {
  const root = path.join(os.tmpdir(), `banatie-bench-nginx-${process.pid}`);
  await mkdir(path.join(root, "www"), { recursive: true });
  await writeFile(path.join(root, "www", "image.png"), file);
  const port = await freePort();
  const config = `daemon off; pid ${root}/nginx.pid; error_log ${root}/error.log; worker_processes 1;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${root}; proxy_temp_path ${root}; fastcgi_temp_path ${root}; uwsgi_temp_path ${root}; scgi_temp_path ${root};
  server { listen 127.0.0.1:${port}; root ${root}/www; } }`;
  await writeFile(path.join(root, "nginx.conf"), config);
  const child = spawn("nginx", ["-c", path.join(root, "nginx.conf")], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { url: `http://127.0.0.1:${port}/image.png`, stop: () => child.kill() };
}

/**
 * Serving a ~200 KB image with autocannon: edge-cache hit vs storage on a miss (the delivery
 * Worker with the cache off) vs a presigned GET straight to the S3 server, and nginx from disk if
 * installed. The Workers run as deployed (see buildWorkerBundle); the API Worker's hit and the
 * wrangler dev figure are kept for reference.
 */
export const servingScenario: Scenario = {
  name: "serving",
  async run({ platform }) {
    const png = noisePng(260);
    const form = new FormData();
    form.append("file", new File([new Uint8Array(png)], "noise.png", { type: "image/png" }));
    const uploaded = await fetch(`${platform.worker.url}/api/upload`, {
      method: "POST",
      headers: { "X-API-Key": platform.projectKey },
      body: form,
    });
    const imagePath = new URL(((await uploaded.json()) as { data: { url: string } }).data.url).pathname;
    const { s3 } = platform.stack;
    const signer = new AwsClient({
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      service: "s3",
      region: "us-east-1",
    });
    const presigned = await signer.sign(
      `${s3.endpoint}/${s3.bucket}/${imagePath.replace("/api/images/", "")}?X-Amz-Expires=3600`,
      {
        method: "GET",
        aws: { signQuery: true },
      },
    );

    const vars = { ...platform.stack.workerVars, ENVIRONMENT: "test" };
    const measurements: Measurement[] = [];
    const measure = async (name: string, url: string) => {
      const result = await loadTest(name, { url, durationSeconds: DURATION_S });
      measurements.push(result);
      return result;
    };
    /** Runs a Worker with `workerVars` while `use` measures it. */
    const running = async <T>(bundle: WorkerBundle, workerVars: Record<string, string>, use: (url: string) => Promise<T>) => {
      const worker = await bundle.start(workerVars);
      try {
        return await use(`${worker.url}${imagePath}`);
      } finally {
        await worker.stop();
      }
    };
    // Each Worker as deployed: image delivery, which production routes image URLs to, with the
    // cache on (in turns with the S3 server, the budget's comparison) and off; and the API Worker,
    // whose static-assets router is in front of every request.
    const delivery = await buildWorkerBundle("delivery");
    const apiWorker = await buildWorkerBundle("api");
    const [hit, direct] = await running(delivery, vars, (url) =>
      loadTestInTurns(
        [
          { name: "delivery Worker, edge-cache hit", url },
          { name: "S3 server directly (presigned GET)", url: presigned.url },
        ],
        { durationSeconds: DURATION_S, rounds: 4 },
      ),
    );
    measurements.push(hit, direct);
    const miss = await running(delivery, { ...vars, IMAGE_EDGE_CACHE: "off" }, (url) =>
      measure("delivery Worker, from storage (cache off)", url),
    );
    const apiHit = await running(apiWorker, vars, (url) => measure("API Worker, edge-cache hit (assets router in front)", url));
    const devHit = await measure("wrangler dev, edge-cache hit (dev proxy in front)", `${platform.worker.url}${imagePath}`);
    const notes = [
      `${Math.round(png.length / 1024)} KB PNG, 10 connections, ${DURATION_S} s each after a 2 s warm-up; ` +
        "the delivery Worker's hit and the S3 server in 4 alternating turns, so both sides of the ratio share the machine's noise",
      "Workers: each deployable bundle in Miniflare (one workerd process, as at the edge). The API Worker's " +
        "[assets] put Miniflare's router Worker in front of every request, /api/* included; the delivery Worker has none",
      "wrangler dev adds a proxy Worker in a second process that caps large responses on small machines",
    ];
    if (hasNginx()) {
      const nginx = await startNginx(png);
      try {
        measurements.push(await loadTest("nginx from disk (ceiling)", { url: nginx.url, durationSeconds: DURATION_S }));
      } finally {
        nginx.stop();
      }
    } else {
      notes.push("nginx is not installed (apt-get install nginx): no ceiling measured");
    }
    return {
      scenario: "serving",
      description: "Serving a 200 KB image",
      measurements,
      metrics: {
        edgeCacheHitVsS3: (hit.requestsPerSecond ?? 0) / (direct.requestsPerSecond ?? 1),
        apiWorkerHitVsS3: (apiHit.requestsPerSecond ?? 0) / (direct.requestsPerSecond ?? 1),
        servingErrors: hit.errors + miss.errors + apiHit.errors + direct.errors + devHit.errors,
      },
      notes,
    };
  },
};
