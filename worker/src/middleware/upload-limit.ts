import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { MAX_MULTIPART_OVERHEAD_BYTES, MAX_UPLOAD_BYTES } from "../domain/limits";
import { AppError } from "../lib/errors";
import { IDEMPOTENCY_KEY_HEADER, toHex } from "../services/idempotency";
import type { HonoEnv } from "./env";

class BodyTooLarge extends Error {}

/**
 * With an Idempotency-Key, the body's SHA-256 as received (middleware/idempotency.ts), computed
 * while it streams to the form parser rather than from a second, buffered copy.
 */
function hashedForIdempotency(c: Context<HonoEnv>, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  if (c.req.header(IDEMPOTENCY_KEY_HEADER) === undefined) return body;
  const [forForm, forDigest] = body.tee();
  const digest = new crypto.DigestStream("SHA-256");
  forDigest.pipeTo(digest).catch(() => {});
  c.set(
    "bodySha256",
    digest.digest.then((bytes) => toHex(new Uint8Array(bytes))),
  );
  return forForm;
}

export interface UploadLimitOptions {
  /** How many files of MAX_UPLOAD_BYTES the form may carry; 1 by default. */
  files?: number;
  /** The form field the files are sent in, named when the body is not a form; "file" by default. */
  field?: string;
}

/**
 * Enforces the upload limit (`files` x MAX_UPLOAD_BYTES, plus the form's overhead) while the body
 * streams, with or without Content-Length: a body that passes the limit is cut off there, never
 * buffered whole. The parsed form is left where the route's validator reads it, so the body is
 * read once. Each file's own 5 MB is the handler's to check.
 *
 * @example
 * middleware: [access.project({ rateLimited: true }), uploadLimit({ files: 3, field: "files[]" })]
 */
export function uploadLimit({ files = 1, field = "file" }: UploadLimitOptions = {}) {
  const limit = files * MAX_UPLOAD_BYTES + MAX_MULTIPART_OVERHEAD_BYTES;
  const tooLarge = () =>
    new AppError(
      "FILE_TOO_LARGE",
      files === 1
        ? `Files are limited to ${MAX_UPLOAD_BYTES} bytes (5 MB)`
        : `At most ${files} files of ${MAX_UPLOAD_BYTES} bytes (5 MB) each: the body is limited to ${limit} bytes`,
    );
  return createMiddleware<HonoEnv>(async function uploadLimit(c, next) {
    const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
    if (declared > limit) throw tooLarge();
    const body = c.req.raw.body;
    if (body) {
      let seen = 0;
      const limited = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.byteLength;
            if (seen > limit) controller.error(new BodyTooLarge());
            else controller.enqueue(chunk);
          },
        }),
      );
      const request = new Request(c.req.raw.url, {
        method: c.req.method,
        headers: c.req.raw.headers,
        body: hashedForIdempotency(c, limited),
      });
      const form = request.formData();
      // Hono keeps body promises in bodyCache (typed as values); its form validator awaits this one.
      (c.req.bodyCache as { formData?: Promise<FormData> }).formData = form;
      try {
        await form;
      } catch (error) {
        if (seen > limit) throw tooLarge();
        throw new AppError("VALIDATION_ERROR", "The body is not a valid multipart form", {
          errors: [{ field, message: `send the image${files === 1 ? "" : "s"} as multipart/form-data field \`${field}\`` }],
          cause: error,
        });
      }
    }
    await next();
  });
}
