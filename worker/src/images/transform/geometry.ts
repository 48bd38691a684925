/**
 * Where the pixels go: from the source size and the options, the rectangle of the source to
 * read, the size to scale it to, and (for `contain`) where it sits on the output canvas. Pure
 * arithmetic, so every fit and gravity is unit-tested without decoding anything.
 */

import { DEFAULT_QUALITY, type OutputFormat } from "../../domain/catalog";
import {
  MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS,
  MAX_JPEG_OUTPUT_PIXELS,
  MAX_OUTPUT_DIMENSION,
  MAX_OUTPUT_PIXELS,
} from "../../domain/limits";
import { AppError } from "../../lib/errors";
import { FULL_CHROMA_FROM_QUALITY } from "../jpeg-settings";
import { type CropRect, type Fit, type Gravity, invalidOption } from "./options";

export interface SizeOptions {
  width?: number;
  height?: number;
  fit?: Fit;
  gravity?: Gravity;
  crop?: CropRect;
}

export interface Plan {
  /** The part of the source that is read (after `crop`, and for `cover` the part that shows). */
  source: CropRect;
  /** The size the source part is scaled to. */
  scaled: { width: number; height: number };
  /** The output canvas and where the scaled image is placed on it (only `contain` pads). */
  canvas: { width: number; height: number; x: number; y: number };
}

/** How far along the free space a gravity puts the image: 0 start, 0.5 middle, 1 end. */
export function anchor(gravity: Gravity | undefined): { x: number; y: number } {
  if (gravity === undefined) return { x: 0.5, y: 0.5 };
  if (typeof gravity !== "string") return gravity;
  return {
    x: gravity.includes("west") ? 0 : gravity.includes("east") ? 1 : 0.5,
    y: gravity.startsWith("north") ? 0 : gravity.startsWith("south") ? 1 : 0.5,
  };
}

/** The part of the source that `crop` selects (all of it without one), refused if it spills over. */
function cropRegion(sourceWidth: number, sourceHeight: number, crop: CropRect | undefined): CropRect {
  if (!crop) return { x: 0, y: 0, width: sourceWidth, height: sourceHeight };
  const { x, y, width, height } = crop;
  if (x + width > sourceWidth || y + height > sourceHeight) {
    invalidOption("crop", `must lie within the ${sourceWidth}x${sourceHeight} source`);
  }
  return crop;
}

type Size = { width: number; height: number };

/** The requested output size; one side given, the other follows the region's ratio, whatever the fit. */
function targetSize(region: CropRect, options: SizeOptions): Size {
  const ratio = region.width / region.height;
  const { width, height } = options;
  if (width === undefined && height === undefined) return { width: region.width, height: region.height };
  if (width === undefined) return { width: Math.max(1, Math.round((height as number) * ratio)), height: height as number };
  if (height === undefined) return { width, height: Math.max(1, Math.round(width / ratio)) };
  return { width, height };
}

/**
 * `cover`: read the largest part of the region with the target's ratio: a named gravity puts it
 * at a side or corner, a focal point is its centre (kept inside the region).
 */
function planCover(region: CropRect, target: Size, gravity: Gravity | undefined): Plan {
  const ratio = region.width / region.height;
  const targetRatio = target.width / target.height;
  const readWidth = Math.max(1, ratio > targetRatio ? Math.round(region.height * targetRatio) : region.width);
  const readHeight = Math.max(1, ratio > targetRatio ? region.height : Math.round(region.width / targetRatio));
  const start = (length: number, read: number, at: number, focal: boolean) =>
    Math.min(length - read, Math.max(0, Math.round(focal ? at * length - read / 2 : (length - read) * at)));
  const focal = typeof gravity === "object";
  const at = anchor(gravity);
  const source = {
    x: region.x + start(region.width, readWidth, at.x, focal),
    y: region.y + start(region.height, readHeight, at.y, focal),
    width: readWidth,
    height: readHeight,
  };
  return { source, scaled: target, canvas: { ...target, x: 0, y: 0 } };
}

/** `contain`, `inside` and `outside` keep the whole region and its ratio; only `contain` pads to the target. */
function planKeepingRatio(region: CropRect, target: Size, fit: Fit, gravity: Gravity | undefined): Plan {
  const scale =
    fit === "outside"
      ? Math.max(target.width / region.width, target.height / region.height)
      : Math.min(target.width / region.width, target.height / region.height);
  const scaled = {
    width: Math.max(1, Math.round(region.width * scale)),
    height: Math.max(1, Math.round(region.height * scale)),
  };
  if (fit !== "contain") return { source: region, scaled, canvas: { ...scaled, x: 0, y: 0 } };
  const at = anchor(gravity);
  return {
    source: region,
    scaled,
    canvas: {
      ...target,
      x: Math.round((target.width - scaled.width) * at.x),
      y: Math.round((target.height - scaled.height) * at.y),
    },
  };
}

/** Refuses a plan whose canvas or scaled image is over the output bounds, before any decoding. */
function requireOutputWithinLimits(plan: Plan): void {
  const longest = Math.max(plan.canvas.width, plan.canvas.height, plan.scaled.width, plan.scaled.height);
  if (longest > MAX_OUTPUT_DIMENSION) {
    throw new AppError(
      "OUTPUT_TOO_LARGE",
      `The output would be ${longest} pixels on a side; at most ${MAX_OUTPUT_DIMENSION} are produced`,
    );
  }
  const pixels = Math.max(plan.canvas.width * plan.canvas.height, plan.scaled.width * plan.scaled.height);
  if (pixels > MAX_OUTPUT_PIXELS) {
    throw new AppError("OUTPUT_TOO_LARGE", `The output would have ${pixels} pixels; at most ${MAX_OUTPUT_PIXELS} are produced`);
  }
}

/** The most pixels a JPEG at this quality may have: whole chroma costs the encoder more memory. */
export function maxJpegOutputPixels(quality: number): number {
  return quality >= FULL_CHROMA_FROM_QUALITY ? MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS : MAX_JPEG_OUTPUT_PIXELS;
}

/**
 * Refuses a JPEG the encoder could not write within the Worker's memory (see
 * MAX_JPEG_OUTPUT_PIXELS); the quality decides the chroma sampling, and so the bound.
 */
export function requireEncodable(
  format: OutputFormat | undefined,
  width: number,
  height: number,
  quality: number = DEFAULT_QUALITY.jpeg,
): void {
  if (format !== "jpeg") return;
  const pixels = width * height;
  const limit = maxJpegOutputPixels(quality);
  if (pixels > limit) {
    const lowerQuality = quality >= FULL_CHROMA_FROM_QUALITY ? `, a quality below ${FULL_CHROMA_FROM_QUALITY}` : "";
    throw new AppError(
      "OUTPUT_TOO_LARGE",
      `A JPEG output at quality ${quality} may have at most ${limit} pixels and this one would have ${pixels} (${width}x${height}); ask for format=webp${lowerQuality}, or a smaller size`,
    );
  }
}

/**
 * Where the pixels go, refused when over the output bounds. The format is the output's when it is
 * known (`auto` decides it later, by the request's Accept), since a JPEG has a lower bound.
 */
export function planTransform(
  sourceWidth: number,
  sourceHeight: number,
  options: SizeOptions & { quality?: number },
  format?: OutputFormat,
): Plan {
  const region = cropRegion(sourceWidth, sourceHeight, options.crop);
  const target = targetSize(region, options);
  const fit = options.fit ?? "cover";
  // A missing side follows the region's ratio (see targetSize), so every fit is a plain scale.
  const oneSided = options.width === undefined || options.height === undefined;
  const plan =
    oneSided || fit === "fill"
      ? { source: region, scaled: target, canvas: { ...target, x: 0, y: 0 } }
      : fit === "cover"
        ? planCover(region, target, options.gravity)
        : planKeepingRatio(region, target, fit, options.gravity);
  requireOutputWithinLimits(plan);
  requireEncodable(format, plan.canvas.width, plan.canvas.height, options.quality);
  return plan;
}
