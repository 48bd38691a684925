import { createMiddleware } from "hono/factory";
import { MAX_MULTIPART_OVERHEAD_BYTES, MAX_UPLOAD_BYTES } from "../domain/limits";
import { AppError } from "../lib/errors";
import type { HonoEnv } from "./env";

const LIMIT = MAX_UPLOAD_BYTES + MAX_MULTIPART_OVERHEAD_BYTES;

class BodyTooLarge extends Error {}

function tooLarge(): AppError {
  return new AppError("FILE_TOO_LARGE", `Files are limited to ${MAX_UPLOAD_BYTES} bytes (5 MB)`);
}

/**
 * Enforces the upload limit while the body streams, with or without Content-Length: a body
 * that passes the limit is cut off there, never buffered whole. The parsed form is left where
 * the route's validator reads it, so the body is read once.
 */
export const uploadLimit = createMiddleware<HonoEnv>(async (c, next) => {
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > LIMIT) throw tooLarge();
  const body = c.req.raw.body;
  if (body) {
    let seen = 0;
    const limited = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > LIMIT) controller.error(new BodyTooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    const request = new Request(c.req.raw.url, { method: c.req.method, headers: c.req.raw.headers, body: limited });
    const form = request.formData();
    // Hono keeps body promises in bodyCache (typed as values); its form validator awaits this one.
    (c.req.bodyCache as { formData?: Promise<FormData> }).formData = form;
    try {
      await form;
    } catch (error) {
      if (seen > LIMIT) throw tooLarge();
      throw new AppError("VALIDATION_ERROR", "The body is not a valid multipart form", {
        errors: [{ field: "file", message: "send the image as multipart/form-data field `file`" }],
        cause: error,
      });
    }
  }
  await next();
});
