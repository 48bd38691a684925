import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { FILE_EXTENSIONS } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import { MAX_UPLOAD_BYTES } from "../domain/limits";
import { searchText } from "../images/search-text";
import { sanitizeFilename, storageKey } from "../images/storage-key";
import { aspectRatioOf, validateUploadedImage } from "../images/validate-upload";
import { AppError } from "../lib/errors";
import { commonErrorResponses, keySecurity, problemResponse, quotaKeyErrorResponses, successEnvelope } from "../lib/openapi";
import { access, authorizeProject } from "../middleware/access";
import { uploadLimit } from "../middleware/upload-limit";
import { settleUnansweredImageRow } from "../services/images";
import { putOrRemoveLater, removeObjectOfFailedRow } from "../storage/abandoned-write";
import { createRouter } from "./create-app";
import { imageUrl } from "./enhancement-schemas";

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
    url: z.string().url(),
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

const route = createRoute({
  method: "post",
  path: "/api/upload",
  tags: ["Images"],
  operationId: "uploadImage",
  summary: "Upload an image",
  description: "The type comes from the file's content; the stored name is the server's. Spends one request of the quota.",
  middleware: [access.project({ rateLimited: true }), uploadLimit],
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
});

export const uploadRoutes = createRouter().openapi(route, async (c) => {
  const form = c.req.valid("form");
  if (form.file.size > MAX_UPLOAD_BYTES)
    throw new AppError("FILE_TOO_LARGE", `Files are limited to ${MAX_UPLOAD_BYTES} bytes (5 MB)`);
  const bytes = new Uint8Array(await form.file.arrayBuffer());
  // Everything about the file is checked before the quota is spent.
  const header = validateUploadedImage(bytes);
  const caller = await authorizeProject(c);

  const { db, store, defer } = c.var.services;
  const id = crypto.randomUUID();
  const filename = sanitizeFilename(form.filename ?? form.file.name.replace(/\.[^.]*$/, ""));
  const key = storageKey({
    organizationSlug: caller.organization.slug,
    projectSlug: caller.project.slug,
    category: form.category,
    id,
    filename: null,
    extension: FILE_EXTENSIONS[header.format],
  });
  const sha256 = await sha256Hex(bytes);
  const aspectRatio = aspectRatioOf(header.width, header.height);
  await putOrRemoveLater(store, defer, key, bytes, {
    contentType: header.mimeType,
    metadata: { sha256, ...(filename ? { filename } : {}) },
  });
  let createdAt: string;
  try {
    const result = await db.execute<{ created_at: string }>(sql`
      insert into images (id, project_id, category, storage_key, mime_type, bytes, width, height, sha256, original_filename, aspect_ratio, search_text)
      values (${id}, ${caller.project.id}, ${form.category}, ${key}, ${header.mimeType}, ${bytes.byteLength}, ${header.width},
              ${header.height}, ${sha256}, ${filename}, ${aspectRatio}, ${searchText(filename)})
      returning created_at
    `);
    createdAt = result.rows[0]?.created_at ?? new Date().toISOString();
  } catch (error) {
    // The row failed (or may yet land): the object must not outlive it, nor leave it broken.
    await removeObjectOfFailedRow(store, defer, key, error, () =>
      settleUnansweredImageRow(db, {
        projectId: caller.project.id,
        category: form.category,
        storageKey: key,
        mimeType: header.mimeType,
        bytes: bytes.byteLength,
        width: header.width,
        height: header.height,
        sha256,
      }),
    );
    throw error;
  }

  return c.json(
    {
      success: true as const,
      data: {
        id,
        url: imageUrl(c, key),
        category: form.category,
        mimeType: header.mimeType,
        bytes: bytes.byteLength,
        width: header.width,
        height: header.height,
        aspectRatio,
        sha256,
        filename,
        createdAt: new Date(createdAt).toISOString(),
      },
    },
    201,
  );
});
