/**
 * Answering for an image's bytes with validators, conditionals and ranges, the same way for
 * originals and variants, cache hits and misses.
 */
import type { Context } from "hono";
import type { ImagePath } from "../images/storage-key";
import { AppError } from "../lib/errors";
import type { HonoEnv } from "../middleware/env";
import type { ObjectInfo } from "../storage/object-store";
import { spendClientBudget } from "./client-limit";
import { EDGE_CACHE_TTL_SECONDS, isKnownMissing, rememberMissing } from "./edge-cache";
import { isNotModified, objectHeaders, parseRange } from "./http";
import { signedImagePath } from "./image-path";
import { imageUrlBase } from "./image-urls";
import { verifySignedPath } from "./signed-url";

/** Objects never change (a new image gets a new name), so anyone may keep them for a year. */
export const PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable";

export interface Served {
  info: Pick<ObjectInfo, "contentType" | "size" | "etag" | "uploaded">;
  filename: string;
  cacheControl: string;
  /** Extra headers, e.g. `Vary: Accept` for negotiated formats. */
  headers?: Record<string, string>;
  /** Variants are revalidated by ETag only: they change with project settings, not just the source. */
  etagOnly?: boolean;
}

export type CacheStatus = "HIT" | "MISS" | "BYPASS";

export function notFound(): never {
  throw new AppError("NOT_FOUND", "No such image");
}

/**
 * Where a request stops being a cache hit, before any database or storage call: an image known
 * to be missing is a 404 at no cost, and anything else spends the client's budget of misses.
 */
export async function beginMiss(c: Context<HonoEnv>, cache: Cache | null, image: ImagePath): Promise<void> {
  if (cache && (await isKnownMissing(cache, imageUrlBase(c), image))) notFound();
  await spendClientBudget(c, "image-miss");
}

/** The 404 for an image that does not exist, remembered so that repeats cost nothing. */
export function notFoundRemembered(c: Context<HonoEnv>, cache: Cache | null, image: ImagePath): never {
  if (cache) c.var.services.defer(() => rememberMissing(cache, imageUrlBase(c), image));
  notFound();
}

function rangeNotSatisfiable(size: number): never {
  throw new AppError("RANGE_NOT_SATISFIABLE", `The range starts beyond the end of this ${size}-byte image`, {
    headers: { "Content-Range": `bytes */${size}` },
  });
}

/** An answer's object headers, with the Cache-Control of whoever keeps it (the client, the edge cache). */
function headersOf(served: Served, cacheControl: string): Record<string, string> {
  return objectHeaders({
    contentType: served.info.contentType,
    size: served.info.size,
    etag: served.info.etag,
    lastModified: served.info.uploaded,
    filename: served.filename,
    cacheControl,
  });
}

function servedHeaders(served: Served, cacheStatus: CacheStatus): Record<string, string> {
  return {
    ...headersOf(served, served.cacheControl),
    ...served.headers,
    "X-Cache": cacheStatus,
  };
}

/** What a cached copy says about itself: the same headers it was stored with. */
export function servedFromCache(hit: Response, file: string, cacheControl: string): Served {
  const vary = hit.headers.get("Vary");
  return {
    info: {
      contentType: hit.headers.get("Content-Type") ?? "application/octet-stream",
      size: Number(hit.headers.get("Content-Length")),
      etag: (hit.headers.get("ETag") ?? "").replaceAll('"', ""),
      uploaded: new Date(hit.headers.get("Last-Modified") ?? 0),
    },
    filename: (hit.headers.get("Content-Disposition") ?? "").match(/filename="([^"]+)"/)?.[1] ?? file,
    cacheControl,
    headers: vary ? { Vary: vary } : undefined,
  };
}

/** A cache hit answered from the cached copy alone: no storage, no database, no decoding. */
export function answerFromCache(c: Context<HonoEnv>, hit: Response, served: Served): Promise<Response> {
  return answer(
    c,
    served,
    async (range) => {
      if (!range) return hit.body ?? new ArrayBuffer(0);
      return (await hit.arrayBuffer()).slice(range.offset, range.offset + range.length);
    },
    "HIT",
  );
}

/**
 * Checks a signed image URL (temporary, or a transformation's with its canonical `options`) and
 * throws the 403 that says why it fails. An `expires` that is present must be a time: an empty
 * one must not pass as "never expires".
 */
export async function requireValidSignature(
  c: Context<HonoEnv>,
  key: string,
  signature: { expires?: string; sig?: string; options?: string },
): Promise<void> {
  const secret = signature.expires === "" ? undefined : c.var.config.urlSigningSecret;
  const check = secret
    ? await verifySignedPath(secret, signedImagePath(key), signature.expires ?? "", signature.sig ?? "", {
        options: signature.options,
      })
    : "invalid";
  if (check === "expired") throw new AppError("URL_EXPIRED", "This signed URL has expired; ask for a new one");
  if (check === "invalid") throw new AppError("INVALID_SIGNATURE", "This signed URL is not valid");
}

export async function answer(
  c: Context<HonoEnv>,
  served: Served,
  readBody: (range?: {
    offset: number;
    length: number;
  }) => Promise<ReadableStream<Uint8Array> | ArrayBuffer | Uint8Array<ArrayBuffer>>,
  cacheStatus: CacheStatus,
): Promise<Response> {
  const { info } = served;
  const headers = servedHeaders(served, cacheStatus);
  if (isNotModified(c.req.raw.headers, info.etag, served.etagOnly ? null : info.uploaded)) {
    return c.body(null, 304, headers);
  }
  const range = parseRange(c.req.header("Range"), info.size);
  if (range === "unsatisfiable") rangeNotSatisfiable(info.size);
  const isHead = c.req.method === "HEAD";
  if (range) {
    const rangeHeaders = {
      ...headers,
      "Content-Range": `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}`,
      "Content-Length": String(range.length),
    };
    return isHead ? c.body(null, 206, rangeHeaders) : c.body(await readBody(range), 206, rangeHeaders);
  }
  const fullHeaders = { ...headers, "Content-Length": String(info.size) };
  return isHead ? c.body(null, 200, fullHeaders) : c.body(await readBody(), 200, fullHeaders);
}

/**
 * Keeps a copy of an answer in the edge cache, written after the response: the headers a hit is
 * answered from (`servedFromCache`), for EDGE_CACHE_TTL_SECONDS rather than the year browsers
 * may keep it, so purges elsewhere take effect within the hour.
 */
export function cacheCopy(
  c: Context<HonoEnv>,
  cache: Cache,
  key: Request,
  body: BodyInit,
  served: Served,
  /** What must be done first (a variant's record); if it fails, nothing is stored. */
  after: Promise<unknown> = Promise.resolve(),
  /** Told once the copy is stored, or is known never to be. */
  settled: () => void = () => {},
): void {
  const copy = new Response(body, {
    headers: {
      ...headersOf(served, `public, max-age=${EDGE_CACHE_TTL_SECONDS}`),
      "Content-Length": String(served.info.size),
    },
  });
  c.var.services.defer(() => after.then(() => cache.put(key, copy)).finally(settled));
}
