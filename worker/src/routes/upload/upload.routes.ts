import { createRoute, z } from "@hono/zod-openapi";
import { MAX_UPLOAD_BYTES } from "../../domain/limits";
import { commonErrorResponses, keySecurity, problemResponse, quotaKeyErrorResponses, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { uploadLimit } from "../../middleware/upload-limit";
import { idempotent } from "../shared/idempotency";
import { ImageUrlSchema } from "../shared/image-url-schemas";

const Form = z.object({
  file: z
    .custom<File>((value) => value instanceof File, "must be a file")
    .openapi({ type: "string", format: "binary", description: `PNG, JPEG or WebP, at most ${MAX_UPLOAD_BYTES} bytes` }),
  category: z.enum(["uploads", "references"]).default("uploads"),
  filename: z.string().trim().min(1).max(100).optional().openapi({ description: "Kept, sanitized, as the download name" }),
});

const UploadSchema = z
  .object({
    id: z.string().uuid(),
    url: ImageUrlSchema,
    category: z.enum(["uploads", "references"]),
    mimeType: z.string(),
    bytes: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    aspectRatio: z.string(),
    sha256: z.string(),
    filename: z.string().nullable(),
    createdAt: z.string().datetime(),
  })
  .openapi("Upload");

export const uploadRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/upload",
    tags: ["Images"],
    operationId: "uploadImage",
    summary: "Upload an image",
    description: "The type comes from the file's content; the stored name is the server's. Spends one request of the quota.",
    middleware: [access.project({ rateLimited: true }), uploadLimit()],
    security: keySecurity,
    request: { body: { content: { "multipart/form-data": { schema: Form } }, required: true } },
    responses: {
      201: { description: "The stored image", content: { "application/json": { schema: successEnvelope(UploadSchema) } } },
      400: problemResponse("No file, or an invalid field"),
      415: problemResponse("Not PNG, JPEG or WebP (UNSUPPORTED_FILE_TYPE)"),
      422: problemResponse(
        "Truncated, padded or ambiguous file (INVALID_IMAGE), too many pixels, or a progressive JPEG too large to decode within memory (IMAGE_TOO_LARGE), or CMYK, 12-bit or arithmetic JPEG or animated WebP (UNSUPPORTED_IMAGE_FEATURE)",
      ),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      // After the shared responses, whose 503 covers only the database.
      503: problemResponse(
        "Storage is down or did not answer in time (STORAGE_UNAVAILABLE), or the database is (DATABASE_UNAVAILABLE)",
      ),
      413: problemResponse(
        "Larger than 5 MB (FILE_TOO_LARGE), or a body that is not multipart over the request limit (PAYLOAD_TOO_LARGE)",
      ),
    },
  }),
);
