import { AppError } from "../lib/errors";

/**
 * The one interface the platform uses for object storage. Adapters: S3 API via aws4fetch
 * (MinIO, R2's S3 endpoint, AWS, the local S3 server) and the Workers R2 binding. Both pass
 * the same contract tests in worker/test/storage.contract.test.ts.
 */

export type ObjectBody = ReadableStream<Uint8Array> | ArrayBuffer | ArrayBufferView | string;

export interface PutOptions {
  contentType: string;
  /** Small string metadata stored with the object (original filename, sha256, ...). */
  metadata?: Record<string, string>;
  /** Exact byte length of a streaming body; lets the body stream instead of being buffered. */
  size?: number;
}

/** A byte range: `offset` with optional `length`, or the last `suffix` bytes. */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

export interface ObjectInfo {
  key: string;
  size: number;
  /** Entity tag without quotes. */
  etag: string;
  uploaded: Date;
  contentType: string;
  metadata: Record<string, string>;
}

export interface StoredObject extends ObjectInfo {
  body: ReadableStream<Uint8Array>;
  /** The bytes actually returned when a range was asked for. */
  range?: { offset: number; length: number };
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  uploaded: Date;
}

export interface ListOptions {
  prefix?: string;
  /** 1-1000 objects per page. */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  /** List only keys after this one (in key order); a cursor takes its place on later pages. */
  startAfter?: string;
}

export interface ListPage {
  objects: ListedObject[];
  /** Present when more objects follow. */
  cursor?: string;
}

export interface ObjectStore {
  put(key: string, body: ObjectBody, options: PutOptions): Promise<{ etag: string; size: number }>;
  /** Null when the object does not exist. A range beyond the object throws RangeNotSatisfiableError. */
  get(key: string, options?: { range?: ByteRange }): Promise<StoredObject | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  list(options?: ListOptions): Promise<ListPage>;
}

/** Thrown when a requested range starts beyond the end of the object (HTTP 416). */
export class RangeNotSatisfiableError extends Error {
  constructor(readonly size: number) {
    super(`Range not satisfiable for an object of ${size} bytes`);
    this.name = "RangeNotSatisfiableError";
  }
}

/**
 * A storage request that got no answer within its deadline. Unlike a refusal, it may still be
 * carried out later: a write given up on can land after the client was told it failed.
 */
export class StorageTimeoutError extends AppError {
  constructor(cause: unknown) {
    super("STORAGE_UNAVAILABLE", "Object storage did not answer in time", { cause });
    this.name = "StorageTimeoutError";
  }
}

export const MAX_LIST_LIMIT = 1000;

/**
 * Gives a body a known length so it streams with Content-Length (S3 and R2 both reject a
 * streaming upload of unknown size). Without a size a stream is buffered, which is only
 * acceptable because every upload path enforces MAX_UPLOAD_BYTES before it gets here.
 */
export async function withKnownLength(
  body: ObjectBody,
  size: number | undefined,
): Promise<{ body: ReadableStream<Uint8Array> | ArrayBuffer | ArrayBufferView | string; size: number }> {
  if (typeof body === "string") return { body, size: new TextEncoder().encode(body).byteLength };
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { body, size: body.byteLength };
  if (size === undefined) {
    const buffered = await new Response(body).arrayBuffer();
    return { body: buffered, size: buffered.byteLength };
  }
  const fixed = new FixedLengthStream(size);
  body.pipeTo(fixed.writable).catch(() => {
    // The reader side reports the failure (a length mismatch or a source error) to the caller.
  });
  return { body: fixed.readable, size };
}
