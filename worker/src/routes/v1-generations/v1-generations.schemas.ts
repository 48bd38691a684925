/** The v1 generation object (Banatie's contract, with our extras) and its request. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { imageUrl, imageUrlBase } from "../../delivery/image-urls";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS } from "../../domain/catalog";
import { MAX_PROMPT_LENGTH, MAX_REFERENCES } from "../../domain/limits";
import type { ProjectCaller } from "../../lib/access-types";
import type { HonoEnv } from "../../middleware/env";
import type { GenerationReference, GenerationResult } from "../../services/generation";
import { CostSchema } from "../shared/cost-schemas";
import { EnhancementOptionsSchema, EnhancementOutcomeSchema, serializeEnhancementOutcome } from "../shared/enhancement-schemas";
import { ImageUrlSchema } from "../shared/image-url-schemas";
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

const Timings = z.object({
  enhanceMs: z.number().int(),
  generateMs: z.number().int(),
  encodeMs: z.number().int(),
  storeMs: z.number().int(),
  totalMs: z.number().int(),
});

export const V1GenerationSchema = z
  .object({
    id: z.string().uuid(),
    projectId: z.string().uuid(),
    flowId: z.string().uuid().nullable(),
    status: z.enum(["pending", "success", "failed"]),
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
    errorMessage: z.string().nullable(),
    meta: MetaSchema,
    provider: z.enum(["gemini", "preview"]),
    model: z.string(),
    enhancement: EnhancementOutcomeSchema.nullable(),
    timings: Timings,
    attempts: z.number().int(),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("V1Generation");

/** The stable URL of an image, by id: what `storageUrl` promises to keep serving it at. */
export function v1StorageUrl(c: Context<HonoEnv>, caller: ProjectCaller, imageId: string): string {
  return `${imageUrlBase(c)}${caller.organization.slug}/${caller.project.slug}/img/${imageId}`;
}

/** A generation just made, as the v1 object. */
export function toV1Generation(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  result: GenerationResult,
  request: { prompt: string; references: readonly GenerationReference[]; meta: Record<string, unknown> },
): z.infer<typeof V1GenerationSchema> {
  const createdAt = result.createdAt.toISOString();
  return {
    id: result.generationId,
    projectId: caller.project.id,
    flowId: result.flowId,
    status: "success",
    prompt: result.prompt,
    originalPrompt: result.enhancement ? request.prompt : null,
    autoEnhance: result.enhancement !== null,
    aspectRatio: result.aspectRatio,
    outputImageId: result.imageId,
    outputImage: {
      id: result.imageId,
      storageKey: result.storageKey,
      storageUrl: v1StorageUrl(c, caller, result.imageId),
      url: imageUrl(c, result.storageKey),
      mimeType: result.mimeType,
      width: result.width,
      height: result.height,
      fileSize: result.bytes,
    },
    referencedImages: request.references.map((reference) => ({ imageId: reference.image.id, alias: reference.alias })),
    processingTimeMs: result.timings.totalMs,
    cost: result.cost,
    retryCount: 0,
    errorMessage: null,
    meta: request.meta,
    provider: result.provider,
    model: result.model,
    enhancement: result.enhancement ? serializeEnhancementOutcome(result.enhancement) : null,
    timings: result.timings,
    attempts: result.attempts,
    createdAt,
    updatedAt: createdAt,
  };
}
