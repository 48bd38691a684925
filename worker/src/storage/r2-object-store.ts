import { AppError } from "../lib/errors";
import {
  type ByteRange,
  MAX_LIST_LIMIT,
  type ObjectInfo,
  type ObjectStore,
  RangeNotSatisfiableError,
  withKnownLength,
} from "./object-store";
import { assertMetadataKeys } from "./shared";

/** ObjectStore over a Workers R2 binding: no signing, no extra hop, used in production on R2. */
export function createR2ObjectStore(bucket: R2Bucket): ObjectStore {
  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      throw storageFailure(operation, cause);
    }
  }

  return {
    async put(key, body, options) {
      assertMetadataKeys(options.metadata);
      const sized = await withKnownLength(body, options.size);
      const stored = await call("store an object", () =>
        bucket.put(key, sized.body, {
          httpMetadata: { contentType: options.contentType },
          customMetadata: options.metadata ?? {},
        }),
      );
      if (!stored) throw new AppError("STORAGE_UNAVAILABLE", "Object storage did not store the object");
      return { etag: stored.etag, size: stored.size };
    },

    async get(key, options = {}) {
      const range = options.range ? toR2Range(options.range) : undefined;
      let object: R2ObjectBody | null;
      try {
        object = await bucket.get(key, range ? { range } : {});
      } catch (cause) {
        // R2 refuses a range past the end (error 10039; local simulators fail differently) without
        // saying the size, which a 416 must state. Only on this failure path, ask for it.
        const size = range
          ? await bucket.head(key).then(
              (info) => info?.size,
              () => undefined,
            )
          : undefined;
        if (size !== undefined && options.range && startsBeyondEnd(options.range, size)) throw new RangeNotSatisfiableError(size);
        throw storageFailure("read an object", cause);
      }
      if (!object) return null;
      return { ...toInfo(object), body: object.body, ...(range ? { range: resolvedRange(object.range, object.size) } : {}) };
    },

    async head(key) {
      const object = await call("read object metadata", () => bucket.head(key));
      return object ? toInfo(object) : null;
    },

    async delete(key) {
      await call("delete an object", () => bucket.delete(key));
    },

    async list(options = {}) {
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? MAX_LIST_LIMIT), 1), MAX_LIST_LIMIT);
      const page = await call("list objects", () =>
        bucket.list({ prefix: options.prefix, limit, cursor: options.cursor, startAfter: options.startAfter }),
      );
      const objects = page.objects.map((object) => ({
        key: object.key,
        size: object.size,
        etag: object.etag,
        uploaded: object.uploaded,
      }));
      return page.truncated ? { objects, cursor: page.cursor } : { objects };
    },
  };
}

/** R2 errors carry no status; anything it throws is an outage from the caller's view. */
function storageFailure(operation: string, cause: unknown): AppError {
  return new AppError("STORAGE_UNAVAILABLE", `Object storage failed to ${operation}`, { cause });
}

function toInfo(object: R2Object): ObjectInfo {
  return {
    key: object.key,
    size: object.size,
    etag: object.etag,
    uploaded: object.uploaded,
    contentType: object.httpMetadata?.contentType ?? "application/octet-stream",
    metadata: object.customMetadata ?? {},
  };
}

function toR2Range(range: ByteRange): R2Range {
  return "suffix" in range ? { suffix: range.suffix } : { offset: range.offset, length: range.length };
}

function startsBeyondEnd(range: ByteRange, size: number): boolean {
  return "suffix" in range ? range.suffix === 0 : range.offset >= size;
}

/** R2 reports the range it served; the fields it did not need are present but undefined. */
function resolvedRange(range: R2Range | undefined, size: number): { offset: number; length: number } {
  const served = (range ?? {}) as { offset?: number; length?: number; suffix?: number };
  if (served.suffix !== undefined) {
    const length = Math.min(served.suffix, size);
    return { offset: size - length, length };
  }
  const offset = served.offset ?? 0;
  return { offset, length: Math.min(served.length ?? size - offset, size - offset) };
}
