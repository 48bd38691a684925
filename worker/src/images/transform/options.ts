/**
 * The transformation grammar of image URLs: `?w=&h=&fit=&gravity=&crop=&format=&q=&preset=&watermark=`.
 * A malformed or repeated option is a 400 naming it. Parameters outside the grammar are refused
 * where a client writes options on purpose (signing, presets) and ignored on image URLs, which
 * links pick up tracking parameters on (`utm_source`, `fbclid`, ...). Parsing produces a normalized
 * form whose canonical string orders options and drops defaults, so equivalent URLs share one
 * cache entry and one signature, and parameters outside the grammar are in neither.
 */

import { MAX_OUTPUT_DIMENSION, MAX_QUALITY, MIN_QUALITY } from "../../domain/limits";
import { AppError } from "../../lib/errors";

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

export const GRAVITIES = [
  "center",
  "north",
  "south",
  "east",
  "west",
  "northeast",
  "northwest",
  "southeast",
  "southwest",
] as const;
export type GravityName = (typeof GRAVITIES)[number];
/** A named side or corner, or a focal point as fractions of the (cropped) source. */
export type Gravity = GravityName | { x: number; y: number };

export const REQUESTED_FORMATS = ["png", "jpeg", "webp", "auto"] as const;
export type RequestedFormat = (typeof REQUESTED_FORMATS)[number];

export interface CropRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What a URL asks for, before presets and the source are known. */
export interface TransformOptions {
  width?: number;
  height?: number;
  fit?: Fit;
  gravity?: Gravity;
  crop?: CropRect;
  format?: RequestedFormat;
  quality?: number;
  preset?: string;
  /** true / false force the project's watermark on or off; undefined follows the project default. */
  watermark?: boolean;
}

/** Query parameters that are not transformation options: temporary-URL and signature fields. */
export const SIGNATURE_PARAMS = ["expires", "sig"] as const;
const OPTION_NAMES = ["w", "h", "fit", "gravity", "crop", "format", "q", "preset", "watermark"] as const;
type OptionName = (typeof OPTION_NAMES)[number];

export const PRESET_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const INTEGER = /^\d{1,5}$/;
const FRACTION = /^(0(\.\d{1,4})?|1(\.0{1,4})?)$/;

/** The 400 for one bad transformation option, naming it in the detail and in `errors`. */
export function invalidOption(option: string, message: string): never {
  throw new AppError("INVALID_TRANSFORM", `${option}: ${message}`, { errors: [{ field: option, message }] });
}

function integer(option: string, value: string, min: number, max: number): number {
  const number = INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) invalidOption(option, `must be a whole number from ${min} to ${max}`);
  return number;
}

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  const normalized = value === "jpg" && option === "format" ? "jpeg" : value;
  if (!(allowed as readonly string[]).includes(normalized)) invalidOption(option, `must be one of ${allowed.join(", ")}`);
  return normalized as T;
}

function parseGravity(value: string): Gravity {
  const point = value.split(",");
  if (point.length === 2) {
    const [x = "", y = ""] = point;
    if (!FRACTION.test(x) || !FRACTION.test(y)) invalidOption("gravity", "a focal point is x,y with each from 0 to 1");
    return { x: Number(x), y: Number(y) };
  }
  return oneOf("gravity", value, GRAVITIES);
}

function parseCrop(value: string): CropRect {
  const parts = value.split(",");
  if (parts.length !== 4) invalidOption("crop", "must be x,y,width,height in source pixels");
  const [x, y, width, height] = parts.map((part, index) => integer("crop", part, index < 2 ? 0 : 1, 65535)) as [
    number,
    number,
    number,
    number,
  ];
  return { x, y, width, height };
}

const isOption = (name: string) => (OPTION_NAMES as readonly string[]).includes(name);
const isSignatureParam = (name: string) => (SIGNATURE_PARAMS as readonly string[]).includes(name);

/** What to do with a parameter outside the grammar: a 400 naming it, or nothing at all. */
export type UnknownParameters = "refuse" | "ignore";

/**
 * Reads the transformation options of a query. Known parameters appear once at most; `expires`
 * and `sig` are left to the signature check; the others are refused or ignored, as asked.
 */
export function parseTransformOptions(
  query: URLSearchParams,
  { unknownParameters = "refuse" }: { unknownParameters?: UnknownParameters } = {},
): TransformOptions {
  const options: TransformOptions = {};
  const seen = new Set<string>();
  for (const [name, value] of query) {
    const known = isOption(name) || isSignatureParam(name);
    if (!known && unknownParameters === "ignore") continue;
    if (!known) invalidOption(name, `is not a transformation option; use ${OPTION_NAMES.join(", ")}`);
    if (seen.has(name)) invalidOption(name, "is given more than once");
    seen.add(name);
    if (isSignatureParam(name)) continue;
    if (value.length > 64) invalidOption(name, "is too long");
    switch (name as OptionName) {
      case "w":
        options.width = integer("w", value, 1, MAX_OUTPUT_DIMENSION);
        break;
      case "h":
        options.height = integer("h", value, 1, MAX_OUTPUT_DIMENSION);
        break;
      case "fit":
        options.fit = oneOf("fit", value, FITS);
        break;
      case "gravity":
        options.gravity = parseGravity(value);
        break;
      case "crop":
        options.crop = parseCrop(value);
        break;
      case "format":
        options.format = oneOf("format", value, REQUESTED_FORMATS);
        break;
      case "q":
        options.quality = integer("q", value, MIN_QUALITY, MAX_QUALITY);
        break;
      case "preset":
        if (!PRESET_NAME.test(value)) invalidOption("preset", "must be a preset name (a-z, 0-9, -)");
        options.preset = value;
        break;
      case "watermark":
        if (!["1", "0", "true", "false"].includes(value)) invalidOption("watermark", "must be 1 or 0");
        options.watermark = value === "1" || value === "true";
        break;
    }
  }
  if (options.preset && (options.width || options.height || options.fit || options.gravity || options.crop)) {
    invalidOption("preset", "sets the size itself; combine it only with format, q and watermark");
  }
  if ((options.fit || options.gravity) && !options.width && !options.height) {
    invalidOption(options.fit ? "fit" : "gravity", "needs w or h");
  }
  return options;
}

/** True when an image URL's query asks for the original as it is: no option, no signature. */
export function asksForOriginal(query: URLSearchParams): boolean {
  for (const name of query.keys()) if (isOption(name) || isSignatureParam(name)) return false;
  return true;
}

export function hasTransformOptions(options: TransformOptions): boolean {
  return Object.values(options).some((value) => value !== undefined);
}

/**
 * Options that make arbitrary work (any size, crop or quality) and so may be required to carry a
 * signature. Presets, a format and the watermark switch are a small, fixed set and stay unsigned.
 */
export function needsSignature(options: TransformOptions): boolean {
  return [options.width, options.height, options.fit, options.gravity, options.crop, options.quality].some(
    (value) => value !== undefined,
  );
}

function gravityText(gravity: Gravity): string {
  return typeof gravity === "string" ? gravity : `${gravity.x},${gravity.y}`;
}

/**
 * The options in a fixed order, with what changes nothing dropped: `fit=cover` and
 * `gravity=center` (the defaults), and `fit`/`gravity` where they have no effect (one side
 * given; gravity outside cover and contain). Order: `crop, w, h, fit, gravity, format, q, preset,
 * watermark`. Signatures and cache keys are computed over this string, so equivalent URLs share
 * both.
 */
export function canonicalOptions(options: TransformOptions): string {
  const bothSides = options.width !== undefined && options.height !== undefined;
  const fit = bothSides && options.fit !== "cover" ? options.fit : undefined;
  const placed = bothSides && (options.fit === undefined || options.fit === "cover" || options.fit === "contain");
  const gravity = placed && options.gravity !== undefined && options.gravity !== "center" ? options.gravity : undefined;
  const parts: [string, string | number | undefined][] = [
    ["crop", options.crop && `${options.crop.x},${options.crop.y},${options.crop.width},${options.crop.height}`],
    ["w", options.width],
    ["h", options.height],
    ["fit", fit],
    ["gravity", gravity === undefined ? undefined : gravityText(gravity)],
    ["format", options.format],
    ["q", options.quality],
    ["preset", options.preset],
    ["watermark", options.watermark === undefined ? undefined : options.watermark ? 1 : 0],
  ];
  return parts
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}
