/**
 * `npm run bench:generation`: what the platform adds around the image model. Runs the platform
 * against the project's Gemini-protocol fake with zero delay and compares, in the same run:
 *
 * - POST /api/text-to-image (PNG out, no enhancement: nothing to encode) end to end, against
 * - the same generateContent call sent straight to the fake,
 *
 * so the difference is the platform's overhead: authentication and quota, records, storage.
 * Encoding is reported apart: the Worker's own encode time of a 1024x1024 PNG to WebP and JPEG.
 */
import os from "node:os";
import { startGeminiFake } from "../dev/gemini-fake/server.ts";
import { percentile, startBenchPlatform } from "./support.ts";

const WARMUP = 20;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const ENCODE_SAMPLES = Number(process.env.BENCH_ENCODE_SAMPLES ?? 30);
const PROMPT = "a lighthouse on a cliff at dusk";

async function timed(send: () => Promise<Response>): Promise<{ ms: number; response: Response; body: unknown }> {
  const started = performance.now();
  const response = await send();
  const body = await response.json();
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, response, body };
}

async function main() {
  const fake = await startGeminiFake({ apiKey: "bench-key" });
  // BENCH_STORAGE=r2 stores through the R2 binding (wrangler's local R2) instead of the S3 server.
  const storage = process.env.BENCH_STORAGE === "r2" ? "r2" : "s3";
  const platform = await startBenchPlatform("generation", {
    vars: { GEMINI_API_KEY: "bench-key", GEMINI_BASE_URL: fake.url, STORAGE_DRIVER: storage },
  });
  const { worker, projectKey } = platform;

  const viaPlatform = (outputFormat: string) => () =>
    fetch(`${worker.url}/api/text-to-image`, {
      method: "POST",
      headers: { "X-API-Key": projectKey, "Content-Type": "application/json" },
      body: JSON.stringify({ prompt: PROMPT, autoEnhance: false, outputFormat }),
    });
  // Exactly what the SDK sends for a 1:1 image, straight to the fake.
  const direct = () =>
    fetch(`${fake.url}/v1/models/gemini-2.5-flash-image:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": "bench-key", "Content-Type": "application/json" },
      body: JSON.stringify({
        contents: [{ role: "user", parts: [{ text: PROMPT }] }],
        generationConfig: { responseModalities: ["IMAGE"], imageConfig: { aspectRatio: "1:1" } },
      }),
    });

  try {
    for (let i = 0; i < WARMUP; i++) {
      await timed(viaPlatform("png"));
      await timed(direct);
    }
    const platformMs: number[] = [];
    const directMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      platformMs.push((await timed(viaPlatform("png"))).ms);
      directMs.push((await timed(direct)).ms);
    }

    const encodeMs: Record<"webp" | "jpeg", number[]> = { webp: [], jpeg: [] };
    for (let i = 0; i < ENCODE_SAMPLES; i++) {
      for (const format of ["webp", "jpeg"] as const) {
        const { body } = await timed(viaPlatform(format));
        encodeMs[format].push((body as { data: { timings: { encodeMs: number } } }).data.timings.encodeMs);
      }
    }

    const overhead = (p: number) => percentile(platformMs, p) - percentile(directMs, p);
    console.log(
      `\nGeneration overhead: ${SAMPLES} sequential samples each after ${WARMUP} warm-up, ${os.cpus().length} cores, wrangler dev on loopback\n`,
    );
    console.log("| path | median ms | p95 ms | p99 ms |");
    console.log("|---|---|---|---|");
    console.log(
      `| POST /api/text-to-image (1024x1024 PNG, no enhancement) | ${percentile(platformMs, 50).toFixed(1)} | ${percentile(platformMs, 95).toFixed(1)} | ${percentile(platformMs, 99).toFixed(1)} |`,
    );
    console.log(
      `| the same call straight to the fake | ${percentile(directMs, 50).toFixed(1)} | ${percentile(directMs, 95).toFixed(1)} | ${percentile(directMs, 99).toFixed(1)} |`,
    );
    console.log(
      `| platform overhead (difference) | ${overhead(50).toFixed(1)} | ${overhead(95).toFixed(1)} | ${overhead(99).toFixed(1)} |`,
    );
    console.log(`\nEncode in the Worker, 1024x1024 PNG from the model (median of ${ENCODE_SAMPLES}):`);
    console.log(
      `  to WebP (quality 80): ${percentile(encodeMs.webp, 50)} ms    to JPEG (quality 82): ${percentile(encodeMs.jpeg, 50)} ms`,
    );
    console.log(`Target: median overhead under 25 ms excluding encoding -> ${overhead(50) < 25 ? "met" : "MISSED"}`);
  } finally {
    await platform.stop();
    await fake.stop();
  }
}

await main();
