/**
 * Serving a transformed variant of a stored image: signature rules, format negotiation, the
 * variant's edge-cache entry under its canonical options, the variant bound, and the
 * transformation itself on a miss.
 */
import type { Context } from "hono";
import { FILE_EXTENSIONS, formatOfFile, type OutputFormat } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import type { WatermarkSettings } from "../domain/image-settings";
import {
  MAX_IMAGE_PIXELS,
  MAX_TRANSFORM_WAIT_MS,
  MAX_VARIANTS_PER_IMAGE,
  MAX_WATERMARK_PIXELS,
  VARIANT_FLIGHT_LEASE_MS,
} from "../domain/limits";
import { decodeImage } from "../images/codec";
import type { ImagePath } from "../images/storage-key";
import { exclusively } from "../images/transform/gate";
import { planTransform } from "../images/transform/geometry";
import { chooseFormat } from "../images/transform/negotiate";
import { canonicalOptions, invalidOption, needsSignature, type TransformOptions } from "../images/transform/options";
import { transformImage } from "../images/transform/pipeline";
import { BUILT_IN_PRESETS, expandPreset } from "../images/transform/presets";
import { AppError } from "../lib/errors";
import type { HonoEnv } from "../middleware/env";
import { admitVariant } from "../services/image-variants";
import { findServableImage, type ServableImage } from "../services/images";
import type { ObjectStore } from "../storage/object-store";
import { EDGE_CACHE_TTL_SECONDS, edgeCache, imageCacheKey } from "./edge-cache";
import { isNotModified } from "./http";
import { imageUrlBase } from "./image-urls";
import {
  answer,
  answerFromCache,
  beginMiss,
  cacheCopy,
  notFound,
  notFoundRemembered,
  requireValidSignature,
  type Served,
  servedFromCache,
} from "./response";
import { createVariantFlights } from "./variant-flights";

/** This isolate's variants in the making (see variant-flights.ts). */
const variantFlights = createVariantFlights(VARIANT_FLIGHT_LEASE_MS);

/**
 * Variants follow their project's settings (a redefined preset, a watermark turned on), so unlike
 * originals they are not immutable: browsers and shared caches keep them as long as the edge does.
 */
const VARIANT_CACHE_CONTROL = `public, max-age=${EDGE_CACHE_TTL_SECONDS}`;

/** An image whose row was read already (an `img/` URL's), and how its answers may be kept. */
export interface KnownImage {
  image: ServableImage & { focalPoint?: { x: number; y: number } | null };
  cacheControl: string;
}

export interface VariantRequest {
  image: ImagePath;
  options: TransformOptions;
  expires?: string;
  sig?: string;
  known?: KnownImage;
}

/**
 * A crop to fill a box (`fit=cover`, the default) without a gravity is anchored at the image's
 * focal point when it has one, so a thumbnail keeps what matters.
 */
function anchoredAtFocalPoint(options: TransformOptions, known: KnownImage | undefined): TransformOptions {
  const focalPoint = known?.image.focalPoint;
  const fills = options.width !== undefined && options.height !== undefined && (options.fit ?? "cover") === "cover";
  return focalPoint && fills && options.gravity === undefined ? { ...options, gravity: focalPoint } : options;
}

async function checkSignature(c: Context<HonoEnv>, request: VariantRequest): Promise<boolean> {
  const signed = request.expires !== undefined || request.sig !== undefined;
  if (!signed) {
    if (needsSignature(request.options) && c.var.config.transformSignaturesRequired) {
      throw new AppError(
        "SIGNATURE_REQUIRED",
        "Arbitrary sizes, crops and qualities need a signed URL (POST /api/images/{id}/transform-url); presets do not",
      );
    }
    return false;
  }
  await requireValidSignature(c, request.image.key, { ...request, options: canonicalOptions(request.options) });
  return true;
}

/** A project that watermarks by default decides who may see its images without the mark. */
function requireWatermarkChoice(image: ServableImage, options: TransformOptions, signed: boolean): void {
  if (options.watermark === false && image.imageSettings.watermarkByDefault && !signed) {
    throw new AppError("SIGNATURE_REQUIRED", "This project watermarks its images; watermark=0 needs a signed URL");
  }
}

/**
 * Everything that can refuse a variant, before any decoding: expiry rules of private images, the
 * project's presets and watermark, crop bounds and output size (from the row's stored size), and
 * last the variant bound, so a refused request is never counted.
 */
async function admit(
  c: Context<HonoEnv>,
  image: ServableImage,
  request: VariantRequest & { signed: boolean },
  normalized: TransformOptions,
  { format, variantKey }: Pick<ResolvedVariant, "format" | "variantKey">,
): Promise<{ options: TransformOptions; recorded: Promise<unknown> }> {
  if (image.private && request.expires === undefined) {
    throw new AppError("INVALID_SIGNATURE", "Images of private projects need a signed URL that expires");
  }
  const settings = image.imageSettings;
  const options = anchoredAtFocalPoint(expandPreset(normalized, settings.presets), request.known);
  if (options.watermark === true && !settings.watermark) {
    invalidOption("watermark", "this project has no watermark");
  }
  requireWatermarkChoice(image, options, request.signed);
  // Images stored before the pixel limit was lowered stay servable but not transformable.
  if (image.width * image.height > MAX_IMAGE_PIXELS) {
    throw new AppError("IMAGE_TOO_LARGE", `Sources over ${MAX_IMAGE_PIXELS} pixels cannot be transformed`);
  }
  planTransform(image.width, image.height, options, format);
  // Only arbitrary work counts against the bound: unsigned variants (presets x formats x the
  // watermark switch) are a small fixed set, so they can never crowd out signed sizes.
  const { db, defer } = c.var.services;
  if (!needsSignature(request.options)) {
    // Always admitted, so recording it waits for nobody: the statement runs beside the
    // transformation. The edge copy waits for the record, since deleting the image purges the
    // variants it finds recorded.
    const recorded = admitVariant(db, image.id, variantKey, MAX_VARIANTS_PER_IMAGE, false);
    defer(() => recorded);
    return { options, recorded };
  }
  if (!(await admitVariant(db, image.id, variantKey, MAX_VARIANTS_PER_IMAGE, true))) {
    throw new AppError(
      "VARIANT_LIMIT",
      `This image already has ${MAX_VARIANTS_PER_IMAGE} variants; use a preset or one of the sizes already requested`,
    );
  }
  return { options, recorded: Promise.resolve(true) };
}

/**
 * The original's bytes: from its edge-cache entry when serving put one there (public images,
 * purged on delete), which is much closer than object storage; otherwise from storage.
 */
async function readSource(c: Context<HonoEnv>, cache: Cache | null, image: ImagePath) {
  const hit = await cache?.match(imageCacheKey(imageUrlBase(c), image));
  if (hit?.body) {
    return {
      body: hit.body,
      etag: (hit.headers.get("ETag") ?? "").replaceAll('"', ""),
      uploaded: new Date(hit.headers.get("Last-Modified") ?? 0),
    };
  }
  return c.var.services.store.get(image.key);
}

/** The project's watermark image, decoded; it is small, so it is read whole. */
async function loadWatermark(store: ObjectStore, settings: WatermarkSettings) {
  const object = await store.get(settings.storageKey);
  if (!object) throw new AppError("NOT_FOUND", "The project's watermark image no longer exists");
  const bytes = new Uint8Array(await new Response(object.body).arrayBuffer());
  return { image: await decodeImage(bytes, MAX_WATERMARK_PIXELS), settings };
}

/** What the URL asks for, settled before the cache: the output format and the variant's cache identity. */
interface ResolvedVariant {
  format: OutputFormat;
  /** The options with built-in presets spelled out. */
  normalized: TransformOptions;
  /** The canonical options the variant is cached and counted under. */
  variantKey: string;
  vary?: { Vary: string };
}

function resolveVariant(c: Context<HonoEnv>, request: VariantRequest): ResolvedVariant {
  const sourceFormat = formatOfFile(request.image.file);
  const format = chooseFormat(request.options.format, sourceFormat, c.req.header("Accept"));
  // Built-in presets are spelled out so `preset=thumbnail` and its options share one entry; a
  // project's presets stay by name (their definition is in the database, not in the URL).
  const builtIn = request.options.preset !== undefined && request.options.preset in BUILT_IN_PRESETS;
  const normalized = anchoredAtFocalPoint(builtIn ? expandPreset(request.options, {}) : request.options, request.known);
  const variantKey = canonicalOptions({
    ...normalized,
    format,
    quality: format === "png" ? undefined : normalized.quality,
  });
  const vary = request.options.format === "auto" ? { Vary: "Accept" } : undefined;
  return { format, normalized, variantKey, vary };
}

/**
 * An unsigned `watermark=0` can only be judged with the image's row (its project's settings), so
 * the row is read before the cache for it; other requests leave it to the miss.
 */
async function checkUnsignedWatermarkOff(
  c: Context<HonoEnv>,
  cache: Cache | null,
  request: VariantRequest,
  signed: boolean,
): Promise<ServableImage | undefined> {
  if (signed || request.options.watermark !== false) return undefined;
  await beginMiss(c, cache, request.image);
  const image = (await findServableImage(c.var.services.db, request.image.key)) ?? notFoundRemembered(c, cache, request.image);
  // Unsigned, a private project's image is no image at all, whatever the options say.
  if (image.private) notFound();
  requireWatermarkChoice(image, request.options, signed);
  return image;
}

/** A known image's row answers what checkUnsignedWatermarkOff reads the row for. */
function knownAndAllowed(known: KnownImage, options: TransformOptions, signed: boolean): ServableImage {
  requireWatermarkChoice(known.image, options, signed);
  return known.image;
}

type VariantSource = NonNullable<Awaited<ReturnType<typeof readSource>>>;

/**
 * The row and the original's bytes, fetched together on a miss; the row's stored size is enough
 * to check the plan. A missing image is remembered; a private one asked unsigned is not, since it
 * still answers its signed URLs.
 */
async function loadImageAndSource(
  c: Context<HonoEnv>,
  cache: Cache | null,
  request: VariantRequest,
  signed: boolean,
  knownImage: ServableImage | undefined,
): Promise<{ image: ServableImage; source: VariantSource }> {
  if (!knownImage) await beginMiss(c, cache, request.image);
  const [image, source] = await Promise.all([
    knownImage ?? findServableImage(c.var.services.db, request.image.key),
    readSource(c, cache, request.image),
  ]);
  if (!image || !source || (image.private && !signed)) {
    await source?.body.cancel();
    if (!image || !source) notFoundRemembered(c, cache, request.image);
    notFound();
  }
  return { image, source };
}

/**
 * The variant's validator, known before any work so a revalidating client gets a 304 without a
 * transformation. It covers the expanded options and the watermark, so redefining a preset or
 * changing the mark changes it too.
 */
async function variantEtag(
  source: VariantSource,
  variantKey: string,
  options: TransformOptions,
  markSettings: WatermarkSettings | null,
): Promise<string> {
  const expanded = `${variantKey}\n${canonicalOptions(options)}\n${markSettings ? JSON.stringify(markSettings) : ""}`;
  return (await sha256Hex(`${source.etag}\n${expanded}`)).slice(0, 32);
}

/** Reads the source and the mark, then transforms, all under the gate that bounds concurrent work. */
function transformUnderGate(
  store: ObjectStore,
  source: VariantSource,
  options: TransformOptions,
  format: OutputFormat,
  markSettings: WatermarkSettings | null,
) {
  return exclusively(async (renew) => {
    const sourceBytes = new Uint8Array(await new Response(source.body).arrayBuffer());
    const watermark = markSettings ? await loadWatermark(store, markSettings) : undefined;
    // The reads waited on storage; the lease now bounds the decoding and encoding.
    renew();
    return transformImage(sourceBytes, { size: options, format, quality: options.quality, watermark });
  }).catch(async (error: unknown) => {
    // Refused before the work started (busy): the source was never read.
    await source.body.cancel().catch(() => undefined);
    throw error;
  });
}

/** Answers with the transformed bytes, keeping a copy at the edge for public images. */
function answerVariant(
  c: Context<HonoEnv>,
  {
    cache,
    cacheKey,
    recorded,
    copied,
  }: { cache: Cache | null; cacheKey: Request; recorded: Promise<unknown>; copied: () => void },
  image: ServableImage,
  bytes: Uint8Array,
  served: Served,
): Promise<Response> {
  const cached = cache !== null && !image.private;
  if (cached) {
    // The stored copy lives an hour (see EDGE_CACHE_TTL_SECONDS); Vary is not stored because the
    // negotiated format is part of the key, and is added back to every answer.
    cacheCopy(c, cache, cacheKey, bytes.slice(), served, recorded, copied);
  } else copied();
  return answer(
    c,
    served,
    async (range) => {
      const body = bytes as Uint8Array<ArrayBuffer>;
      return range ? body.slice(range.offset, range.offset + range.length) : body;
    },
    cached ? "MISS" : "BYPASS",
  );
}

export async function serveVariant(c: Context<HonoEnv>, request: VariantRequest): Promise<Response> {
  // Everything that needs a signature is checked before the cache, so a variant cached for a
  // signed request is never served to an unsigned or wrongly signed one: sizes, crops and
  // qualities here, and watermark=0, which only the project's settings tell, with its row.
  const signed = await checkSignature(c, request);
  const cache = c.var.config.edgeCache ? edgeCache() : null;
  const knownImage = request.known
    ? knownAndAllowed(request.known, request.options, signed)
    : await checkUnsignedWatermarkOff(c, cache, request, signed);
  const cacheControl = request.known?.cacheControl ?? VARIANT_CACHE_CONTROL;
  const { format, normalized, variantKey, vary } = resolveVariant(c, request);

  // Signed requests may read the cache too: only public images' variants are ever stored.
  const cacheKey = imageCacheKey(imageUrlBase(c), request.image, variantKey);
  const answerCopy = (copy: Response) => {
    // A repeat request: no database, no storage, no decoding.
    const served = servedFromCache(copy, request.image.file, cacheControl);
    return answerFromCache(c, copy, { ...served, headers: { ...served.headers, ...vary }, etagOnly: true });
  };
  const hit = await cache?.match(cacheKey);
  if (hit) return answerCopy(hit);

  const noOneWaits = () => {};
  let copied = cache ? variantFlights.tryBegin(cacheKey.url) : noOneWaits;
  if (!copied) {
    // Another request of this isolate is making this very variant: its edge copy is the answer.
    if (cache && (await variantFlights.waitFor(cacheKey.url, MAX_TRANSFORM_WAIT_MS))) {
      const made = await cache.match(cacheKey);
      if (made) return answerCopy(made);
    }
    copied = variantFlights.begin(cacheKey.url);
  }
  try {
    const { image, source } = await loadImageAndSource(c, cache, request, signed, knownImage);
    // A private image's variants are never stored at the edge: nobody should wait for this one.
    if (image.private) copied();
    const miss = { request, signed, image, source, format, normalized, variantKey, vary };
    return await makeVariant(c, miss, { cache, cacheKey, copied });
  } catch (error) {
    copied();
    throw error;
  }
}

/** A variant the edge does not hold: admitted against the image's bound, then transformed. */
async function makeVariant(
  c: Context<HonoEnv>,
  miss: {
    request: VariantRequest;
    signed: boolean;
    image: ServableImage;
    source: VariantSource;
    format: OutputFormat;
    normalized: TransformOptions;
    variantKey: string;
    vary: { Vary: string } | undefined;
  },
  edge: { cache: Cache | null; cacheKey: Request; copied: () => void },
): Promise<Response> {
  const { request, signed, image, source, format, normalized, variantKey, vary } = miss;
  const { cache, cacheKey, copied } = edge;
  const settings = image.imageSettings;
  let options: TransformOptions;
  let recorded: Promise<unknown>;
  try {
    ({ options, recorded } = await admit(c, image, { ...request, signed }, normalized, { format, variantKey }));
  } catch (error) {
    await source.body.cancel();
    throw error;
  }
  const markSettings = (options.watermark ?? settings.watermarkByDefault) ? settings.watermark : null;
  const etag = await variantEtag(source, variantKey, options, markSettings);
  const expiresIn = signed && request.expires ? Math.max(0, Number(request.expires) - Math.floor(Date.now() / 1000)) : 0;
  const cacheControl = image.private ? `private, max-age=${expiresIn}` : (request.known?.cacheControl ?? VARIANT_CACHE_CONTROL);
  if (isNotModified(c.req.raw.headers, etag, null)) {
    await source.body.cancel();
    copied();
    return c.body(null, 304, { ETag: `"${etag}"`, "Cache-Control": cacheControl, ...vary });
  }
  const output = await transformUnderGate(c.var.services.store, source, options, format, markSettings);
  const baseName = (image.filename ?? request.image.file).replace(/\.[a-z0-9]+$/i, "");
  return answerVariant(c, { cache, cacheKey, recorded, copied }, image, output.bytes, {
    info: { contentType: output.mimeType, size: output.bytes.byteLength, etag, uploaded: source.uploaded },
    filename: `${baseName}.${FILE_EXTENSIONS[format]}`,
    cacheControl,
    headers: vary,
    etagOnly: true,
  });
}
