import { createRoute, z } from "@hono/zod-openapi";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS, TEMPLATE_VALUES } from "../../domain/catalog";
import { MAX_GENERATE_FILES, MAX_PROMPT_LENGTH, MAX_UPLOAD_BYTES } from "../../domain/limits";
import { commonErrorResponses, keySecurity, problemResponse, quotaKeyErrorResponses, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { uploadLimit } from "../../middleware/upload-limit";
import { EnhancementOptionsSchema } from "../shared/enhancement-schemas";
import { budgetResponseHeaders } from "../shared/generation-budget";
import { GenerationSchema } from "../shared/generation-schemas";
import { idempotent } from "../shared/idempotency";
import { ImageUrlSchema } from "../shared/image-url-schemas";

const FileField = z
  .custom<File>((value) => value instanceof File, "must be a file")
  .openapi({ type: "string", format: "binary", description: `PNG, JPEG or WebP, at most ${MAX_UPLOAD_BYTES} bytes` });

/** One file, or several under the same name: the form validator gives an array for a repeated field. */
const FilesField = z.union([FileField, z.array(FileField)]).optional();

/** `enhancementOptions` as multipart sends it: a JSON object as text. */
const EnhancementOptionsText = z
  .string()
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be a JSON object, e.g. {"template":"photorealistic"}' });
      return z.NEVER;
    }
    const parsed = EnhancementOptionsSchema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? "must be a JSON object" });
      return z.NEVER;
    }
    return parsed.data;
  })
  .optional()
  .openapi({ type: "string", description: 'A JSON object as text, e.g. {"template":"photorealistic"}' });

export const GenerateForm = z
  .object({
    prompt: z.string().trim().min(1).max(MAX_PROMPT_LENGTH).openapi({ example: "the cat from the photo, as an astronaut" }),
    filename: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "Name for the generated file, without extension; reduced to letters, digits, - and _" }),
    "files[]": FilesField.openapi({
      description: `Up to ${MAX_GENERATE_FILES} reference images (with files), each checked as POST /api/upload checks a file`,
    }),
    files: FilesField.openapi({ description: "The same as files[], under the name without brackets" }),
    autoEnhance: z
      .enum(["true", "false"])
      .default("true")
      .transform((value) => value === "true"),
    enhancementOptions: EnhancementOptionsText,
    "enhancementOptions[template]": z
      .enum(TEMPLATE_VALUES)
      .optional()
      .openapi({ description: "The template alone, instead of enhancementOptions" }),
    aspectRatio: z
      .enum(ASPECT_RATIO_VALUES)
      .optional()
      .openapi({ description: "Default: with files, the supported ratio nearest the first one's; else 1:1" }),
    outputFormat: z.enum(OUTPUT_FORMATS).default("png"),
  })
  .strict();

const ReferenceSchema = z
  .object({
    id: z.string().uuid().openapi({ description: "The stored reference, listed by GET /api/images/uploads?category=references" }),
    url: ImageUrlSchema,
    width: z.number().int(),
    height: z.number().int(),
    mimeType: z.string(),
  })
  .openapi("StoredReference");

const GenerateResultSchema = GenerationSchema.extend({
  references: z.array(ReferenceSchema).openapi({ description: "The files, as stored, in the order the model got them" }),
}).openapi("GenerationWithReferences");

export const generateRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/generate",
    tags: ["Generation"],
    operationId: "generate",
    summary: "Generate an image from a prompt and up to 3 reference files (the seed-era API)",
    description: `Multipart. Every field and file is checked first (each file as POST /api/upload checks one): a refusal names the field, stores nothing and spends nothing. Then the files are stored in the project's references (as uploads of category references) and sent to the model, in order, before the prompt. Spends one request of the key's hourly quota, whatever the number of files; with a monthly budget, the quoted upper bound is reserved first, as for text-to-image. If the generation fails, the stored references stay: they are the project's uploads.`,
    middleware: [access.project({ rateLimited: true }), uploadLimit({ files: MAX_GENERATE_FILES, field: "files[]" })],
    security: keySecurity,
    request: { body: { content: { "multipart/form-data": { schema: GenerateForm } }, required: true } },
    responses: {
      201: {
        description: "The generated image, and the references it was made with",
        headers: budgetResponseHeaders,
        content: { "application/json": { schema: successEnvelope(GenerateResultSchema) } },
      },
      400: problemResponse(
        `An invalid field (VALIDATION_ERROR), or more than ${MAX_GENERATE_FILES} files (TOO_MANY_REFERENCES), naming it`,
      ),
      402: problemResponse(
        "The request's quoted upper bound would cross the monthly budget of the key or its project (BUDGET_EXCEEDED). Nothing was stored or generated.",
      ),
      404: problemResponse("A stored reference could not be read back (IMAGE_NOT_FOUND)"),
      415: problemResponse("A file is not PNG, JPEG or WebP (UNSUPPORTED_FILE_TYPE), naming it"),
      422: problemResponse(
        "A file is truncated, padded or ambiguous (INVALID_IMAGE), has too many pixels (IMAGE_TOO_LARGE) or an unsupported feature (UNSUPPORTED_IMAGE_FEATURE), naming it; or the model refused (CONTENT_BLOCKED) or returned no image (NO_IMAGE)",
      ),
      502: problemResponse("The model failed or answered something unusable"),
      504: problemResponse("The model did not answer in time"),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      // After the shared responses, whose 503 covers only the database and whose 413 only the body.
      503: problemResponse(
        "The model stayed rate limited (UPSTREAM_RATE_LIMITED), storage is down or did not answer in time (STORAGE_UNAVAILABLE), the isolate is busy fitting other images (TRANSFORM_BUSY), or the database is unavailable (DATABASE_UNAVAILABLE)",
      ),
      413: problemResponse(
        `A file larger than 5 MB (FILE_TOO_LARGE, naming it), a body over ${MAX_GENERATE_FILES} such files (FILE_TOO_LARGE), or a body that is not multipart over the request limit (PAYLOAD_TOO_LARGE)`,
      ),
    },
  }),
);
