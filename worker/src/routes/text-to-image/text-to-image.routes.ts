import { createRoute, z } from "@hono/zod-openapi";
import { ASPECT_RATIO_VALUES, DEFAULT_ASPECT_RATIO, OUTPUT_FORMATS } from "../../domain/catalog";
import { MAX_PROMPT_LENGTH } from "../../domain/limits";
import { commonErrorResponses, keySecurity, problemResponse, quotaKeyErrorResponses, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { AcceptedGenerationSchema, acceptedResponseHeaders, PreferHeaders } from "../shared/async-generation";
import { EnhancementOptionsSchema } from "../shared/enhancement-schemas";
import { budgetResponseHeaders } from "../shared/generation-budget";
import { GenerationSchema } from "../shared/generation-schemas";
import { idempotent } from "../shared/idempotency";
import { QuoteSchema } from "../shared/quote-schemas";
import { requestWebhookFields } from "../shared/request-webhook";

/** What a generation is asked with; a quote (POST /api/quotes) is asked with the same, and may add references. */
export const textToImageFields = {
  prompt: z.string().trim().min(1).max(MAX_PROMPT_LENGTH).openapi({ example: "кот в космосе" }),
  filename: z.string().trim().min(1).max(100).optional().openapi({
    description: "Name for the file, without extension; reduced to letters, digits, - and _",
    example: "space-cat",
  }),
  aspectRatio: z.enum(ASPECT_RATIO_VALUES).default(DEFAULT_ASPECT_RATIO),
  outputFormat: z.enum(OUTPUT_FORMATS).default("png"),
  quality: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "jpeg and webp only; default 82 (jpeg) or 80 (webp)" }),
  autoEnhance: z.boolean().default(true),
  enhancementOptions: EnhancementOptionsSchema.optional(),
  dryRun: z.boolean().default(false).openapi({
    description: "Quote instead of generating: answers 200 with the quote, calls no model, stores nothing, spends no quota",
  }),
};

/** A quality applies to jpeg and webp only. */
export function refineQuality(body: { quality?: number; outputFormat: string }, ctx: z.RefinementCtx): void {
  if (body.quality !== undefined && body.outputFormat === "png") {
    ctx.addIssue({ code: "custom", path: ["quality"], message: "applies to jpeg and webp only" });
  }
}

export const TextToImageRequestSchema = z
  .object({ ...textToImageFields, ...requestWebhookFields })
  .strict()
  .superRefine(refineQuality)
  .openapi("TextToImageRequest");

export const textToImageRoute = createRoute(
  idempotent({
    method: "post",
    path: "/api/text-to-image",
    tags: ["Generation"],
    operationId: "textToImage",
    summary: "Generate an image from a prompt",
    description:
      "Improves the prompt (unless autoEnhance is false), generates the image, stores it and returns its public URL. Spends one request of the key's hourly quota. When the key or its project has a monthly budget, the quoted upper bound is reserved first (402 BUDGET_EXCEEDED, before any model call, when it would cross the tighter budget) and settled to the actual cost afterwards, or released if the generation fails. With dryRun, only quotes the generation (as POST /api/quotes does).",
    middleware: [access.project({ rateLimited: true })],
    security: keySecurity,
    request: {
      headers: PreferHeaders,
      body: { content: { "application/json": { schema: TextToImageRequestSchema } }, required: true },
    },
    responses: {
      200: {
        description: "With dryRun: the quote, an upper bound of the cost; nothing was generated, stored or spent",
        content: { "application/json": { schema: successEnvelope(QuoteSchema) } },
      },
      201: {
        description:
          "The generated image; with Prefer: wait=N, the asynchronous generation that succeeded within N seconds, answered as without Prefer (its enhancement is null: what the enhancer did is not stored), with Location and Preference-Applied. One that failed within N seconds answers the problem it failed with, as without Prefer.",
        headers: { ...budgetResponseHeaders, ...acceptedResponseHeaders },
        content: { "application/json": { schema: successEnvelope(GenerationSchema) } },
      },
      202: {
        description:
          "With Prefer: respond-async: the generation was accepted and queued; its quota and budget are spent, and refunded if it fails or is canceled. Follow it at Location (statusUrl). With Prefer: wait=N, the generation had not ended within N seconds: `status` says where it stands (pending or processing); the image is read at statusUrl once it succeeds.",
        headers: { ...budgetResponseHeaders, ...acceptedResponseHeaders },
        content: { "application/json": { schema: successEnvelope(AcceptedGenerationSchema) } },
      },
      400: problemResponse("Invalid request"),
      402: problemResponse(
        "The request's quoted upper bound would cross the monthly budget of the key or its project (BUDGET_EXCEEDED); `budget` names it, with what is spent and when it resets. Nothing was generated.",
      ),
      422: problemResponse("The model refused (CONTENT_BLOCKED) or returned no image (NO_IMAGE)"),
      502: problemResponse("The model failed or answered something unusable"),
      504: problemResponse("The model did not answer in time"),
      ...quotaKeyErrorResponses,
      ...commonErrorResponses,
      // After the shared responses, whose 503 covers only the database.
      503: problemResponse(
        "The model stayed rate limited (UPSTREAM_RATE_LIMITED), storage is down or did not answer in time (STORAGE_UNAVAILABLE), or the database is (DATABASE_UNAVAILABLE)",
      ),
    },
  }),
);
