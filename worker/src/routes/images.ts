import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { IMAGE_CATEGORIES } from "../domain/catalog";
import { SLUG_PATTERN } from "../domain/slug";
import { isNotModified, objectHeaders, parseRange } from "../images/delivery";
import { EDGE_CACHE_TTL_SECONDS, edgeCache, imageCacheKey } from "../images/edge-cache";
import { verifySignedPath } from "../images/signed-url";
import { createRouter } from "../lib/create-app";
import { AppError } from "../lib/errors";
import { commonErrorResponses, problemResponse } from "../lib/openapi";
import type { HonoEnv } from "../lib/types";
import { access } from "../middleware/access";
import { findServableImage } from "../services/images";
import type { ObjectInfo, StoredObject } from "../storage/object-store";
import { imageOrigin } from "./enhancement-schemas";

/** Server-made names only: no dots but the extension's, no slashes, nothing to escape with. */
const FILE_NAME = /^[a-z0-9][a-z0-9_-]{0,120}\.(png|jpg|webp)$/;
/** Objects never change (a new image gets a new name), so anyone may keep them for a year. */
const PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable";

const route = createRoute({
  method: "get",
  path: "/api/images/{organization}/{project}/{category}/{file}",
  tags: ["Images"],
  operationId: "getImage",
  summary: "An image's bytes (HEAD too): public, the URL is the capability",
  description:
    "Served from the edge cache when possible (X-Cache: HIT/MISS). Supports If-None-Match / If-Modified-Since (304) and a single byte range (206, 416). Images of private projects need a temporary URL (expires, sig).",
  middleware: [access.public()],
  request: {
    params: z.object({
      organization: z.string().regex(SLUG_PATTERN),
      project: z.string().regex(SLUG_PATTERN),
      category: z.enum(IMAGE_CATEGORIES),
      file: z.string().regex(FILE_NAME),
    }),
    query: z.object({
      expires: z.string().max(16).optional().openapi({ description: "Temporary URLs: expiry, Unix seconds" }),
      sig: z.string().max(64).optional().openapi({ description: "Temporary URLs: signature" }),
    }),
  },
  responses: {
    200: { description: "The image", content: { "image/*": { schema: z.string().openapi({ format: "binary" }) } } },
    206: { description: "The requested byte range" },
    304: { description: "The client's copy is current" },
    403: problemResponse("Temporary URL expired (URL_EXPIRED) or tampered with (INVALID_SIGNATURE)"),
    404: problemResponse("No such image"),
    416: problemResponse("The range starts beyond the end"),
    ...commonErrorResponses,
  },
});

interface Served {
  info: Pick<ObjectInfo, "contentType" | "size" | "etag" | "uploaded">;
  filename: string;
  cacheControl: string;
}

function notFound(): never {
  throw new AppError("NOT_FOUND", "No such image");
}

function rangeNotSatisfiable(size: number): never {
  throw new AppError("RANGE_NOT_SATISFIABLE", `The range starts beyond the end of this ${size}-byte image`, {
    headers: { "Content-Range": `bytes */${size}` },
  });
}

/** Answers with validators, conditionals and ranges, the same way for cache hits and misses. */
async function answer(
  c: Context<HonoEnv>,
  served: Served,
  readBody: (range?: { offset: number; length: number }) => Promise<ReadableStream<Uint8Array> | ArrayBuffer>,
  cacheStatus: "HIT" | "MISS" | "BYPASS",
): Promise<Response> {
  const { info } = served;
  const headers = {
    ...objectHeaders({
      contentType: info.contentType,
      size: info.size,
      etag: info.etag,
      lastModified: info.uploaded,
      filename: served.filename,
      cacheControl: served.cacheControl,
    }),
    "X-Cache": cacheStatus,
  };
  if (isNotModified(c.req.raw.headers, info.etag, info.uploaded)) return c.body(null, 304, headers);
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

function displayName(filename: string | null, file: string): string {
  return filename ? `${filename}.${file.split(".").pop()}` : file;
}

export const imageRoutes = createRouter().openapi(
  route,
  async (c) => {
    const { organization, project, category, file } = c.req.valid("param");
    const { expires, sig } = c.req.valid("query");
    const key = `${organization}/${project}/${category}/${file}`;

    const signed = expires !== undefined || sig !== undefined;
    if (signed) {
      const secret = c.var.config.urlSigningSecret;
      const check = secret ? await verifySignedPath(secret, `/api/images/${key}`, expires ?? "", sig ?? "") : "invalid";
      if (check === "expired") throw new AppError("URL_EXPIRED", "This temporary URL has expired; ask for a new one");
      if (check === "invalid") throw new AppError("INVALID_SIGNATURE", "This temporary URL is not valid");
    }

    const cache = c.var.config.edgeCache ? edgeCache() : null;
    const cacheKey = imageCacheKey(imageOrigin(c), key);
    if (cache && !signed) {
      const hit = await cache.match(cacheKey);
      if (hit) {
        const served: Served = {
          info: {
            contentType: hit.headers.get("Content-Type") ?? "application/octet-stream",
            size: Number(hit.headers.get("Content-Length")),
            etag: (hit.headers.get("ETag") ?? "").replaceAll('"', ""),
            uploaded: new Date(hit.headers.get("Last-Modified") ?? 0),
          },
          filename: (hit.headers.get("Content-Disposition") ?? "").match(/filename="([^"]+)"/)?.[1] ?? file,
          cacheControl: PUBLIC_CACHE_CONTROL,
        };
        // No storage, no database: a hit is answered from the cached copy alone.
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
    }

    // A miss: the database says whether the image is live and public, storage has the bytes.
    const { db, store } = c.var.services;
    const wantsRange = c.req.header("Range") !== undefined || c.req.method === "HEAD";
    const [servable, object] = await Promise.all([
      findServableImage(db, key),
      wantsRange ? store.head(key) : (store.get(key) as Promise<StoredObject | ObjectInfo | null>),
    ]);
    const body = object && "body" in object ? (object as StoredObject).body : null;
    if (!servable || !object || (servable.private && !signed)) {
      await body?.cancel();
      notFound();
    }

    const expiresIn = signed ? Math.max(0, Number(expires) - Math.floor(Date.now() / 1000)) : 0;
    const served: Served = {
      info: object,
      filename: displayName(servable.filename, file),
      cacheControl: signed || servable.private ? `private, max-age=${expiresIn}` : PUBLIC_CACHE_CONTROL,
    };
    const cacheable = Boolean(cache && !signed && !servable.private && body);
    const response = await answer(
      c,
      served,
      async (range) => {
        if (range) return (await store.get(key, { range }))?.body ?? notFound();
        if (!body) return (await store.get(key))?.body ?? notFound();
        if (!cacheable) return body;
        const [forClient, forCache] = body.tee();
        const copy = new Response(forCache, {
          headers: {
            ...objectHeaders({
              contentType: object.contentType,
              size: object.size,
              etag: object.etag,
              lastModified: object.uploaded,
              filename: served.filename,
              cacheControl: `public, max-age=${EDGE_CACHE_TTL_SECONDS}`,
            }),
            "Content-Length": String(object.size),
          },
        });
        c.executionCtx.waitUntil((cache as Cache).put(cacheKey, copy));
        return forClient;
      },
      cacheable ? "MISS" : "BYPASS",
    );
    if (response.status !== 200) await body?.cancel();
    return response;
  },
  // Any malformed path is simply not an image: 404, and it never reaches storage.
  (result) => {
    if (!result.success) notFound();
    return undefined;
  },
);
