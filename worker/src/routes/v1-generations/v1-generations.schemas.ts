/** The v1 generation object (Banatie's contract, with our extras) and its request. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { imageUrl, imageUrlBase } from "../../delivery/image-urls";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS } from "../../domain/catalog";
import { MAX_PROMPT_LENGTH, MAX_REFERENCES } from "../../domain/limits";
import type { ProjectCaller } from "../../lib/access-types";
import type { HonoEnv } from "../../middleware/env";
import type { EnhancementOutcome, GenerationReference, GenerationResult } from "../../services/generation";
import type { GenerationView } from "../../services/v1-generations";
import { CostSchema } from "../shared/cost-schemas";
import { EnhancementOptionsSchema, EnhancementOutcomeSchema, serializeEnhancementOutcome } from "../shared/enhancement-schemas";
import { TimingsSchema } from "../shared/generation-schemas";
import { ImageUrlSchema } from "../shared/image-url-schemas";
import { requestWebhookFields } from "../shared/request-webhook";
import { MetaSchema } from "../shared/v1-schemas";

export const CreateGenerationRequestSchema = z
  .object({
    prompt: z.string().trim().min(1).max(MAX_PROMPT_LENGTH).openapi({
      description: "What to generate or how to change the references; its @aliases are references too",
      example: "the @hero character on a beach at sunset",
    }),
    aspectRatio: z.enum(ASPECT_RATIO_VALUES).optional().openapi({
      description: "Default: with references, the supported ratio nearest the first one's; else 1:1",
    }),
    referenceImages: z
      .array(z.string().max(100))
      .default([])
      .openapi({
        description: `Up to ${MAX_REFERENCES} images to edit or compose from, each an image id or an @alias (more is 400 TOO_MANY_REFERENCES)`,
        example: ["@hero"],
      }),
    alias: z
      .string()
      .max(100)
      .optional()
      .openapi({ description: "A project alias for the new image; it moves from any image that has it", example: "@hero-beach" }),
    flowAlias: z.string().max(100).optional().openapi({
      description: "An alias for the new image within its flow (409 ALIAS_CONFLICT when the flow gives it to another image)",
    }),
    flowId: z.string().uuid().nullable().optional().openapi({
      description: "The flow to continue; omitted, a new flow id is returned; null, no flow",
    }),
    autoEnhance: z.boolean().default(true),
    enhancementOptions: EnhancementOptionsSchema.optional(),
    meta: MetaSchema.optional(),
    outputFormat: z.enum(OUTPUT_FORMATS).default("png"),
    quality: z.number().int().min(1).max(100).optional().openapi({ description: "jpeg and webp only" }),
    filename: z.string().trim().min(1).max(100).optional(),
    ...requestWebhookFields,
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.quality !== undefined && body.outputFormat === "png") {
      ctx.addIssue({ code: "custom", path: ["quality"], message: "applies to jpeg and webp only" });
    }
    if (body.flowAlias !== undefined && body.flowId === null) {
      ctx.addIssue({ code: "custom", path: ["flowAlias"], message: "needs a flow: omit flowId or give one" });
    }
  })
  .openapi("CreateGenerationRequest");

const OutputImageSchema = z
  .object({
    id: z.string().uuid(),
    storageKey: z.string(),
    storageUrl: z
      .string()
      .url()
      .openapi({ description: "The image's stable URL: {org}/{project}/img/{id}, kept when it is regenerated" }),
    url: ImageUrlSchema,
    mimeType: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    fileSize: z.number().int(),
  })
  .openapi("V1OutputImage");

export const V1GenerationSchema = z
  .object({
    id: z.string().uuid(),
    projectId: z.string().uuid(),
    flowId: z.string().uuid().nullable(),
    status: z.enum(["pending", "processing", "success", "failed"]).openapi({
      description:
        "pending (accepted, not started), processing (an asynchronous generation being run), success or failed (see errorCode)",
    }),
    prompt: z.string().openapi({ description: "The prompt the image model received" }),
    originalPrompt: z.string().nullable().openapi({ description: "The client's prompt when it was enhanced; else null" }),
    autoEnhance: z.boolean(),
    aspectRatio: z.enum(ASPECT_RATIO_VALUES),
    outputImageId: z.string().uuid().nullable(),
    outputImage: OutputImageSchema.nullable(),
    referencedImages: z.array(z.object({ imageId: z.string().uuid(), alias: z.string().nullable() })),
    processingTimeMs: z.number().int(),
    cost: CostSchema,
    retryCount: z.number().int().openapi({ description: "In-place regenerations of this generation" }),
    errorCode: z.string().nullable().openapi({
      description: "Why it failed: an error code, GENERATION_CANCELED or GENERATION_RETRIES_EXHAUSTED included; null otherwise",
    }),
    errorMessage: z.string().nullable(),
    meta: MetaSchema,
    provider: z.enum(["gemini", "preview"]).nullable(),
    model: z.string().nullable(),
    enhancement: EnhancementOutcomeSchema.nullable().optional().openapi({
      description: "What the enhancer did: only in the answer of the request that generated; null when autoEnhance is false",
    }),
    timings: TimingsSchema,
    attempts: z.number().int(),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    deletedAt: z.string().datetime().optional().openapi({ description: "Only on a deleted generation (includeDeleted)" }),
  })
  .openapi("V1Generation");

/** The stable URL of an image, by id: what `storageUrl` promises to keep serving it at. */
export function v1StorageUrl(c: Context<HonoEnv>, caller: ProjectCaller, imageId: string): string {
  return `${imageUrlBase(c)}${caller.organization.slug}/${caller.project.slug}/img/${imageId}`;
}

/** A generation just made, as the stored view the v1 object is made from. */
export function viewOfResult(
  caller: ProjectCaller,
  result: GenerationResult,
  request: {
    prompt: string;
    template: string | null;
    references: readonly GenerationReference[];
    meta: Record<string, unknown>;
    regenerationCount?: number;
  },
): GenerationView {
  return {
    id: result.generationId,
    projectId: caller.project.id,
    flowId: result.flowId,
    status: "succeeded",
    originalPrompt: request.prompt,
    finalPrompt: result.prompt,
    template: request.template,
    aspectRatio: result.aspectRatio,
    provider: result.provider,
    model: result.model,
    output: {
      id: result.imageId,
      storageKey: result.storageKey,
      mimeType: result.mimeType,
      width: result.width,
      height: result.height,
      bytes: result.bytes,
    },
    references: request.references.map((reference) => ({ imageId: reference.image.id, alias: reference.alias })),
    timings: result.timings,
    cost: result.cost,
    attempts: result.attempts,
    regenerationCount: request.regenerationCount ?? 0,
    errorCode: null,
    errorMessage: null,
    meta: request.meta,
    createdAt: result.generation.createdAt,
    updatedAt: result.generation.updatedAt,
    deletedAt: null,
  };
}

const STATUS = { pending: "pending", processing: "processing", succeeded: "success", failed: "failed" } as const;

/**
 * A generation as the v1 object; `enhancement` only in the answer of the request that made it
 * (what the enhancer did is not stored), `deletedAt` only on a deleted one.
 */
export function toV1Generation(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  view: GenerationView,
  enhancement?: EnhancementOutcome | null,
): z.infer<typeof V1GenerationSchema> {
  const { output, timings } = view;
  return {
    id: view.id,
    projectId: view.projectId,
    flowId: view.flowId,
    status: STATUS[view.status],
    prompt: view.finalPrompt ?? view.originalPrompt,
    originalPrompt: view.template === null ? null : view.originalPrompt,
    autoEnhance: view.template !== null,
    aspectRatio: view.aspectRatio,
    outputImageId: output?.id ?? null,
    outputImage: output
      ? {
          id: output.id,
          storageKey: output.storageKey,
          storageUrl: v1StorageUrl(c, caller, output.id),
          url: imageUrl(c, output.storageKey),
          mimeType: output.mimeType,
          width: output.width,
          height: output.height,
          fileSize: output.bytes,
        }
      : null,
    referencedImages: view.references,
    processingTimeMs: timings.totalMs ?? 0,
    cost: view.cost,
    retryCount: view.regenerationCount,
    errorCode: view.errorCode,
    errorMessage: view.errorMessage,
    meta: view.meta,
    provider: view.provider,
    model: view.model,
    ...(enhancement === undefined ? {} : { enhancement: enhancement ? serializeEnhancementOutcome(enhancement) : null }),
    timings: { enhanceMs: 0, generateMs: 0, encodeMs: 0, storeMs: 0, totalMs: 0, ...timings },
    attempts: view.attempts,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
    ...(view.deletedAt ? { deletedAt: view.deletedAt.toISOString() } : {}),
  };
}
