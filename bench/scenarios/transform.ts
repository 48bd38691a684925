import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import sharp from "sharp";
import { compareWithSharp, decodeRgb, type FormatComparison, psnr } from "../image-quality.ts";
import { loadTest, timeSequential } from "../measure.ts";
import { buildWorkerBundle, type RuntimeWorker } from "../miniflare-worker.ts";
import { photo } from "../photo.ts";
import type { Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_TRANSFORM_SAMPLES ?? 40);

/** A photo-like JPEG, as a camera would write it. */
function photoJpeg(width: number, height: number): Promise<Buffer> {
  return photo(width, height).jpeg({ quality: 85 }).toBuffer();
}

/** Peak resident memory (VmHWM) of this process's workerd children, in MiB. */
function workerdPeakMiB(): number {
  const pids = execFileSync("pgrep", ["-P", String(process.pid), "workerd"], { encoding: "utf8" })
    .trim()
    .split("\n");
  return Math.max(
    ...pids.map((pid) => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      return Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
    }),
  );
}

async function uploadJpeg(worker: RuntimeWorker, key: string, bytes: Buffer, name: string): Promise<string> {
  const form = new FormData();
  form.append("file", new File([new Uint8Array(bytes)], name, { type: "image/jpeg" }));
  const response = await fetch(`${worker.url}/api/upload`, { method: "POST", headers: { "X-API-Key": key }, body: form });
  if (response.status !== 201) throw new Error(`upload: HTTP ${response.status} ${await response.text()}`);
  return new URL(((await response.json()) as { data: { url: string } }).data.url).pathname;
}

/** The comparison's output: 2000x1333 to 960 wide is 960x640. */
const COMPARED_WIDTH = 960;

/**
 * Bytes on the wire: the source resized to 960x640 by the Worker in each format, beside sharp.
 * The Worker's PNG (lossless) gives its resized pixels: they are compared with sharp's Lanczos-3
 * resize of the same source (resizing quality), and both encoders are given them (encoder
 * bytes and PSNR at the default qualities).
 */
async function bytesOnTheWire(worker: RuntimeWorker, path: string, source: Buffer) {
  const output = async (format: FormatComparison["format"]) => {
    const response = await fetch(`${worker.url}${path}?w=${COMPARED_WIDTH}&format=${format}`);
    if (!response.ok) throw new Error(`${format} at ${COMPARED_WIDTH}w: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const outputs = { png: await output("png"), jpeg: await output("jpeg"), webp: await output("webp") };
  const pixels = await decodeRgb(outputs.png);
  const lanczos = await decodeRgb(await sharp(source).resize({ width: COMPARED_WIDTH }).png().toBuffer());
  return {
    resizePsnr: psnr(pixels, lanczos),
    size: `${pixels.width}x${pixels.height}`,
    formats: await compareWithSharp(pixels, outputs),
  };
}

const decibels = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)} dB` : "lossless");

/**
 * A 2000x1333 JPEG to a 500-wide WebP: the Worker (its deployable bundle in Miniflare, edge
 * cache off so every request transforms) against sharp (libvips) in this process limited to
 * one thread, so both figures are per core. Also the memory a 4096x2048 source costs, and the
 * bytes on the wire of each output format at 960x640 against sharp's (`bytesOnTheWire`).
 */
export const transformScenario: Scenario = {
  name: "transform",
  async run({ platform }) {
    const source = await photoJpeg(2000, 1333);
    sharp.concurrency(1);
    const viaSharp = await timeSequential(
      "sharp (libvips, 1 thread): 2000x1333 JPEG to 500w WebP",
      async () => new Response(await sharp(source).resize({ width: 500 }).webp({ quality: 80 }).toBuffer()),
      SAMPLES,
      5,
    );

    const bundle = await buildWorkerBundle("api");
    const worker = await bundle.start({
      ...platform.stack.workerVars,
      ENVIRONMENT: "test",
      IMAGE_EDGE_CACHE: "off",
      TRANSFORM_SIGNATURES: "optional",
    });
    try {
      const path = await uploadJpeg(worker, platform.projectKey, source, "photo.jpg");
      const viaWorker = await timeSequential(
        "Worker (WASM in workerd): the same over HTTP, every request transformed",
        () => fetch(`${worker.url}${path}?w=500&format=webp&q=80`),
        SAMPLES,
        5,
      );
      // Two clients, so one request's database and storage round trips overlap the other's CPU
      // work: the isolate's one thread is the core being measured.
      const throughput = await loadTest("Worker: the same, 2 concurrent clients for 10 s", {
        url: `${worker.url}${path}?w=500&format=webp&q=80`,
        connections: 2,
        durationSeconds: 10,
      });
      const check = await fetch(`${worker.url}${path}?w=500&format=webp&q=80`);
      const output = await sharp(Buffer.from(await check.arrayBuffer())).metadata();
      // After the throughput runs, so they measure what they measured before this was added.
      const viaWorkerJpeg = await timeSequential(
        "Worker: the same to a 500w JPEG (default quality)",
        () => fetch(`${worker.url}${path}?w=500&format=jpeg`),
        SAMPLES,
        5,
      );
      const wire = await bytesOnTheWire(worker, path, source);
      const jpeg = wire.formats.find((row) => row.format === "jpeg") as FormatComparison;

      const before = workerdPeakMiB();
      const large = await uploadJpeg(worker, platform.projectKey, await photoJpeg(4096, 2048), "large.jpg");
      const big = await timeSequential(
        "Worker: 4096x2048 JPEG (the upload limit's shape) to 500w WebP",
        () => fetch(`${worker.url}${large}?w=500&format=webp`),
        5,
        1,
      );
      const after = workerdPeakMiB();

      const workerPerSecond = throughput.requestsPerSecond ?? 0;
      const sharpPerSecond = 1000 / viaSharp.medianMs;
      return {
        scenario: "transform",
        description: "Transformation: 2000x1333 JPEG to a 500-pixel-wide WebP, per core; bytes and PSNR against sharp",
        measurements: [
          { ...viaSharp, requestsPerSecond: sharpPerSecond },
          { ...viaWorker, requestsPerSecond: 1000 / viaWorker.medianMs },
          { ...viaWorkerJpeg, requestsPerSecond: 1000 / viaWorkerJpeg.medianMs },
          throughput,
          { ...big, requestsPerSecond: 1000 / big.medianMs },
        ],
        metrics: {
          transformPerSecond: workerPerSecond,
          transformErrors: throughput.errors,
          sharpPerSecond,
          transformVsSharp: workerPerSecond / sharpPerSecond,
          transformPeakMiB: after,
          transformLargeSourceExtraMiB: after - before,
          resizePsnrVsSharpDb: wire.resizePsnr,
          jpegBytesVsSharp: jpeg.bytes / jpeg.sharpBytes,
          jpegPsnrMinusSharpDb: jpeg.psnr - jpeg.sharpPsnr,
        },
        notes: [
          `${SAMPLES} sequential requests each after a warm-up (requests/s = 1000 / median); the ratio uses the Worker's 2-client throughput against sharp's sequential rate on one thread`,
          `output checked: ${output.width}x${output.height} ${output.format}; source ${Math.round(source.length / 1024)} KB`,
          `resizing to ${wire.size}: ${wire.resizePsnr.toFixed(1)} dB PSNR against sharp's Lanczos-3 resize of the same source`,
          ...wire.formats.map(
            (row) =>
              `${row.format} of those pixels: ${(row.bytes / 1024).toFixed(1)} KB at ${decibels(row.psnr)} against sharp's ${(row.sharpBytes / 1024).toFixed(1)} KB at ${decibels(row.sharpPsnr)} (${((row.bytes / row.sharpBytes - 1) * 100).toFixed(1)}%${row.identical ? ", byte for byte the same" : ""})`,
          ),
          `workerd peak resident memory ${before.toFixed(0)} MiB before the 4096x2048 source, ${after.toFixed(0)} MiB after (the whole runtime, not one isolate)`,
        ],
      };
    } finally {
      await worker.stop();
    }
  },
};
