/**
 * One transformation, source bytes in, encoded bytes out: decode (WASM), cut, resample, pad,
 * watermark, encode (WASM). Everything runs in the Worker's isolate; see limits.ts for the
 * bounds that keep it within 128 MB.
 */
import type { OutputFormat } from "../../domain/catalog";
import type { WatermarkSettings } from "../../domain/image-settings";
import { MAX_IMAGE_PIXELS } from "../../domain/limits";
import { decodeInspected, type EncodedImage, encodeImage, type RgbaImage } from "../codec";
import { inspectForDecoding } from "../inspect";
import { anchor, planTransform, type SizeOptions } from "./geometry";
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
 * Call inside `exclusively`. A stored source the inspector refuses (one stored before it existed,
 * or put into storage by other means) is a 422 `INVALID_IMAGE`, `UNSUPPORTED_IMAGE_FEATURE` or
 * `IMAGE_TOO_LARGE`, answered without decoding; the original stays servable as it is.
 */
export async function transformImage(source: Uint8Array, job: TransformJob): Promise<EncodedImage> {
  const inspected = inspectForDecoding(source, MAX_IMAGE_PIXELS);
  // Checked before decoding, so a bad crop or an oversized output costs no CPU.
  const plan = planTransform(inspected.width, inspected.height, { ...job.size, quality: job.quality }, job.format);
  const decoded = await decodeInspected(inspected);
  // JPEG has no alpha channel, so its pixels need no scan for transparency.
  const region = extract(decoded, plan.source);
  const scaled = await resize(region, plan.scaled.width, plan.scaled.height, decoded.format === "jpeg" || undefined);
  const output = place(scaled, plan.canvas, background(job.format));
  // Every step returns fresh pixels (or the fresh decode itself), so blending in place is safe.
  if (job.watermark) await applyWatermark(output, job.watermark);
  if (job.format === "jpeg") flatten(output, [255, 255, 255]);
  return encodeImage(output, job.format, job.quality);
}
