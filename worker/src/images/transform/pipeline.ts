/**
 * One transformation, source bytes in, encoded bytes out: decode (WASM), cut, resample, pad,
 * watermark, encode (WASM). Everything runs in the Worker's isolate; see limits.ts for the
 * bounds that keep it within 128 MB.
 */
import type { OutputFormat } from "../../domain/catalog";
import type { WatermarkSettings } from "../../domain/image-settings";
import { MAX_IMAGE_PIXELS } from "../../domain/limits";
import { AppError } from "../../lib/errors";
import { decodeImage, type EncodedImage, encodeImage, type RgbaImage } from "../codec";
import { inspectImage } from "../inspect";
import { anchor, planTransform, type SizeOptions } from "./geometry";
import { MAX_TRANSFORM_WAIT_MS, MAX_WAITING_TRANSFORMS } from "./limits";
import type { GravityName } from "./options";
import { blend, extract, flatten, place } from "./pixels";
import { resize } from "./resize";

export interface TransformJob {
  size: SizeOptions;
  format: OutputFormat;
  quality?: number;
  /** The decoded mark and how to place it, when this response carries a watermark. */
  watermark?: { image: RgbaImage; settings: Pick<WatermarkSettings, "position" | "opacity" | "scale" | "margin"> };
}

/** Letterbox colour for `contain`: transparent where the format has alpha, white for JPEG. */
function background(format: OutputFormat): [number, number, number, number] {
  return format === "jpeg" ? [255, 255, 255, 255] : [0, 0, 0, 0];
}

async function applyWatermark(image: RgbaImage, watermark: NonNullable<TransformJob["watermark"]>): Promise<void> {
  const { settings } = watermark;
  // `scale` sets the mark's width; a very tall mark is bounded by the output's height instead,
  // so the mark is never larger than the image it goes on.
  const source = watermark.image;
  const factor = Math.min((image.width * settings.scale) / source.width, image.height / source.height);
  const width = Math.max(1, Math.round(source.width * factor));
  const height = Math.max(1, Math.round(source.height * factor));
  const mark = await resize(watermark.image, width, height);
  // Placed like a `contain` image: by the same gravity names, inside the margin.
  const at = anchor(settings.position as GravityName);
  const x = settings.margin + Math.round((image.width - width - 2 * settings.margin) * at.x);
  const y = settings.margin + Math.round((image.height - height - 2 * settings.margin) * at.y);
  blend(image, mark, x, y, settings.opacity);
}

/**
 * One transformation at a time per isolate. Requests share an isolate's 128 MB, and the work is
 * CPU on its single thread anyway, so running two at once would only stack their peak memory.
 * Callers read their source and watermark inside `work`, so waiting requests hold nothing large.
 * A waiting request polls with its own timer rather than chaining onto another request's promise,
 * which the Workers runtime does not allow to settle across request contexts; beyond a few waiting,
 * or after a while, the answer is 503 with Retry-After.
 */
let busy = false;
let waiting = 0;

function busyError(): AppError {
  return new AppError("TRANSFORM_BUSY", "This server is busy transforming images; retry in a second", {
    headers: { "Retry-After": "1" },
  });
}

export async function exclusively<T>(work: () => Promise<T>): Promise<T> {
  if (busy) {
    if (waiting >= MAX_WAITING_TRANSFORMS) throw busyError();
    waiting++;
    try {
      const deadline = Date.now() + MAX_TRANSFORM_WAIT_MS;
      while (busy) {
        if (Date.now() > deadline) throw busyError();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      waiting--;
    }
  }
  busy = true;
  try {
    return await work();
  } finally {
    busy = false;
  }
}

/**
 * Call inside `exclusively`. A stored source the inspector refuses (one stored before it existed,
 * or put into storage by other means) is a 422 `INVALID_IMAGE`, `UNSUPPORTED_IMAGE_FEATURE` or
 * `IMAGE_TOO_LARGE`, answered without decoding; the original stays servable as it is.
 */
export async function transformImage(source: Uint8Array, job: TransformJob): Promise<EncodedImage> {
  const header = inspectImage(source, MAX_IMAGE_PIXELS);
  // Checked before decoding, so a bad crop or an oversized output costs no CPU.
  const plan = planTransform(header.width, header.height, job.size);
  const decoded = await decodeImage(source, MAX_IMAGE_PIXELS);
  // JPEG has no alpha channel, so its pixels need no scan for transparency.
  const region = extract(decoded, plan.source);
  const scaled = await resize(region, plan.scaled.width, plan.scaled.height, header.format === "jpeg" || undefined);
  const output = place(scaled, plan.canvas, background(job.format));
  // Every step returns fresh pixels (or the fresh decode itself), so blending in place is safe.
  if (job.watermark) await applyWatermark(output, job.watermark);
  if (job.format === "jpeg") flatten(output, [255, 255, 255]);
  return encodeImage(output, job.format, job.quality);
}
