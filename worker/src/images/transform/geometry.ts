/**
 * Where the pixels go: from the source size and the options, the rectangle of the source to
 * read, the size to scale it to, and (for `contain`) where it sits on the output canvas. Pure
 * arithmetic, so every fit and gravity is unit-tested without decoding anything.
 */

import { MAX_OUTPUT_DIMENSION, MAX_OUTPUT_PIXELS } from "../../domain/limits";
import { AppError } from "../../lib/errors";
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

export function planTransform(sourceWidth: number, sourceHeight: number, options: SizeOptions): Plan {
  let region: CropRect = { x: 0, y: 0, width: sourceWidth, height: sourceHeight };
  if (options.crop) {
    const { x, y, width, height } = options.crop;
    if (x + width > sourceWidth || y + height > sourceHeight) {
      invalidOption("crop", `must lie within the ${sourceWidth}x${sourceHeight} source`);
    }
    region = options.crop;
  }
  const ratio = region.width / region.height;
  const fit = options.fit ?? "cover";
  let { width, height } = options;
  // One side given: the other follows the aspect ratio, whatever the fit.
  if (width === undefined && height === undefined) {
    width = region.width;
    height = region.height;
  } else if (width === undefined) {
    width = Math.max(1, Math.round((height as number) * ratio));
  } else if (height === undefined) {
    height = Math.max(1, Math.round(width / ratio));
  }
  const target = { width: width as number, height: height as number };
  const oneSided = options.width === undefined || options.height === undefined;

  let plan: Plan;
  if (oneSided || fit === "fill") {
    plan = { source: region, scaled: target, canvas: { ...target, x: 0, y: 0 } };
  } else if (fit === "cover") {
    // Read the largest part of the region with the target's ratio: a named gravity puts it at a
    // side or corner, a focal point is its centre (kept inside the region).
    const targetRatio = target.width / target.height;
    const readWidth = Math.max(1, ratio > targetRatio ? Math.round(region.height * targetRatio) : region.width);
    const readHeight = Math.max(1, ratio > targetRatio ? region.height : Math.round(region.width / targetRatio));
    const start = (length: number, read: number, at: number, focal: boolean) =>
      Math.min(length - read, Math.max(0, Math.round(focal ? at * length - read / 2 : (length - read) * at)));
    const focal = typeof options.gravity === "object";
    const at = anchor(options.gravity);
    const source = {
      x: region.x + start(region.width, readWidth, at.x, focal),
      y: region.y + start(region.height, readHeight, at.y, focal),
      width: readWidth,
      height: readHeight,
    };
    plan = { source, scaled: target, canvas: { ...target, x: 0, y: 0 } };
  } else {
    // contain, inside and outside keep the whole region and its ratio.
    const scale =
      fit === "outside"
        ? Math.max(target.width / region.width, target.height / region.height)
        : Math.min(target.width / region.width, target.height / region.height);
    const scaled = {
      width: Math.max(1, Math.round(region.width * scale)),
      height: Math.max(1, Math.round(region.height * scale)),
    };
    if (fit === "contain") {
      const at = anchor(options.gravity);
      plan = {
        source: region,
        scaled,
        canvas: {
          ...target,
          x: Math.round((target.width - scaled.width) * at.x),
          y: Math.round((target.height - scaled.height) * at.y),
        },
      };
    } else {
      plan = { source: region, scaled, canvas: { ...scaled, x: 0, y: 0 } };
    }
  }
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
  return plan;
}
