import { AwsClient } from "aws4fetch";
import type { S3Settings } from "../config";
import { STORAGE_RETRIES, STORAGE_TIMEOUT_MS } from "../domain/limits";
import { AppError } from "../lib/errors";
import {
  type ListPage,
  MAX_LIST_LIMIT,
  type ObjectInfo,
  type ObjectStore,
  RangeNotSatisfiableError,
  StorageTimeoutError,
  withKnownLength,
} from "./object-store";
import { assertMetadataKeys, rangeHeader } from "./shared";

const META_PREFIX = "x-amz-meta-";

/**
 * ObjectStore over the S3 API, signed with SigV4 by aws4fetch. Path-style URLs
 * (`{endpoint}/{bucket}/{key}`) work with MinIO, R2's S3 endpoint, AWS and the local server.
 */
export function createS3ObjectStore(settings: S3Settings): ObjectStore {
  const client = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    service: "s3",
    region: settings.region,
    retries: STORAGE_RETRIES,
  });
  const bucketUrl = `${settings.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(settings.bucket)}`;
  const objectUrl = (key: string) => `${bucketUrl}/${key.split("/").map(encodeURIComponent).join("/")}`;

  /** Sends a signed request; the timeout covers the wait for response headers, not the body. */
  async function send(url: string, init: RequestInit): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), STORAGE_TIMEOUT_MS);
    try {
      return await client.fetch(url, { ...init, signal: controller.signal });
    } catch (cause) {
      if (controller.signal.aborted) throw new StorageTimeoutError(cause);
      throw new AppError("STORAGE_UNAVAILABLE", "Object storage could not be reached", { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  async function failure(response: Response, operation: string): Promise<AppError> {
    await response.body?.cancel();
    return new AppError("STORAGE_UNAVAILABLE", `Object storage failed to ${operation} (HTTP ${response.status})`);
  }

  function infoFrom(key: string, response: Response): ObjectInfo {
    const metadata: Record<string, string> = {};
    for (const [name, value] of response.headers) {
      if (name.startsWith(META_PREFIX)) metadata[name.slice(META_PREFIX.length)] = decodeURIComponent(value);
    }
    const contentRange = parseContentRange(response.headers.get("content-range"));
    return {
      key,
      size: contentRange?.size ?? Number(response.headers.get("content-length") ?? 0),
      etag: unquote(response.headers.get("etag") ?? ""),
      uploaded: new Date(response.headers.get("last-modified") ?? 0),
      contentType: response.headers.get("content-type") ?? "application/octet-stream",
      metadata,
    };
  }

  return {
    async put(key, body, options) {
      assertMetadataKeys(options.metadata);
      const sized = await withKnownLength(body, options.size);
      const headers: Record<string, string> = { "content-type": options.contentType };
      for (const [name, value] of Object.entries(options.metadata ?? {})) {
        headers[META_PREFIX + name] = encodeURIComponent(value);
      }
      // The body is not hashed into the signature: a stream cannot be, and hashing megabytes of
      // image costs more than it protects over TLS. S3, R2 and MinIO accept unsigned payloads.
      headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      const response = await send(objectUrl(key), { method: "PUT", headers, body: sized.body });
      if (!response.ok) throw await failure(response, "store an object");
      await response.body?.cancel();
      return { etag: unquote(response.headers.get("etag") ?? ""), size: sized.size };
    },

    async get(key, options = {}) {
      const headers: Record<string, string> = {};
      if (options.range) headers.range = rangeHeader(options.range);
      const response = await send(objectUrl(key), { method: "GET", headers });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (response.status === 416) {
        // S3 states the size in the error body (ActualObjectSize); some servers in Content-Range.
        const size =
          parseContentRange(response.headers.get("content-range"))?.size ?? xmlText(await response.text(), "ActualObjectSize");
        throw new RangeNotSatisfiableError(Number(size ?? 0));
      }
      if (!response.ok || !response.body) throw await failure(response, "read an object");
      const info = infoFrom(key, response);
      const contentRange = parseContentRange(response.headers.get("content-range"));
      return {
        ...info,
        body: response.body,
        ...(response.status === 206 && contentRange
          ? { range: { offset: contentRange.start, length: contentRange.end - contentRange.start + 1 } }
          : {}),
      };
    },

    async head(key) {
      const response = await send(objectUrl(key), { method: "HEAD" });
      if (response.status === 404) return null;
      if (!response.ok) throw await failure(response, "read object metadata");
      return infoFrom(key, response);
    },

    async delete(key) {
      const response = await send(objectUrl(key), { method: "DELETE" });
      if (!response.ok && response.status !== 404) throw await failure(response, "delete an object");
      await response.body?.cancel();
    },

    async list(options = {}) {
      const params = new URLSearchParams({ "list-type": "2", "max-keys": String(clampLimit(options.limit)) });
      if (options.prefix) params.set("prefix", options.prefix);
      if (options.cursor) params.set("continuation-token", options.cursor);
      if (options.startAfter) params.set("start-after", options.startAfter);
      const response = await send(`${bucketUrl}?${params}`, { method: "GET" });
      if (!response.ok) throw await failure(response, "list objects");
      return parseListResponse(await response.text());
    },
  };
}

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? MAX_LIST_LIMIT), 1), MAX_LIST_LIMIT);
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

function parseContentRange(header: string | null): { start: number; end: number; size: number } | null {
  const match = header?.match(/^bytes (?:(\d+)-(\d+)|\*)\/(\d+)$/);
  if (!match) return null;
  return { start: Number(match[1] ?? 0), end: Number(match[2] ?? -1), size: Number(match[3]) };
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number(name.slice(1)));
    return XML_ENTITIES[name] ?? entity;
  });
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = xml.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
  return match ? decodeXml(match[1] ?? "") : undefined;
}

/** ListObjectsV2 answers in a small, flat XML shape; Workers have no DOMParser, so read it by tag. */
export function parseListResponse(xml: string): ListPage {
  const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, entry = ""]) => ({
    key: xmlText(entry, "Key") ?? "",
    size: Number(xmlText(entry, "Size") ?? 0),
    etag: unquote(xmlText(entry, "ETag") ?? ""),
    uploaded: new Date(xmlText(entry, "LastModified") ?? 0),
  }));
  const truncated = xmlText(xml, "IsTruncated") === "true";
  const cursor = truncated ? xmlText(xml, "NextContinuationToken") : undefined;
  return cursor ? { objects, cursor } : { objects };
}
