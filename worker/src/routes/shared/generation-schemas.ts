/** The generation object of text-to-image and the seed-era /api/generate, and its serializer. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { imageUrl } from "../../delivery/image-urls";
import { ASPECT_RATIO_VALUES, OUTPUT_FORMATS } from "../../domain/catalog";
import type { HonoEnv } from "../../middleware/env";
import type { GenerationResult } from "../../services/generation";
import { CostSchema } from "./cost-schemas";
import { EnhancementOutcomeSchema, serializeEnhancementOutcome } from "./enhancement-schemas";
import { ImageUrlSchema } from "./image-url-schemas";

/** Where a generation's time went, in milliseconds; the v1 generation carries the same. */
export const TimingsSchema = z.object({
  enhanceMs: z.number().int(),
  generateMs: z.number().int(),
  encodeMs: z.number().int(),
  storeMs: z.number().int(),
  totalMs: z.number().int(),
});

export const GenerationSchema = z
  .object({
    generationId: z.string().uuid(),
    imageId: z.string().uuid(),
    url: ImageUrlSchema,
    filename: z.string().nullable(),
    width: z.number().int(),
    height: z.number().int(),
    format: z.enum(OUTPUT_FORMATS),
    mimeType: z.string(),
    bytes: z.number().int(),
    sha256: z.string(),
    aspectRatio: z.enum(ASPECT_RATIO_VALUES),
    provider: z
      .enum(["gemini", "preview"])
      .openapi({ description: '"preview" is the offline stand-in used without GEMINI_API_KEY' }),
    model: z.string(),
    prompt: z.string().openapi({ description: "The prompt the image model received" }),
    enhancement: EnhancementOutcomeSchema.nullable().openapi({
      description:
        "Null when autoEnhance is false, and on an asynchronous generation (Prefer: wait=N), whose enhancement is not stored",
    }),
    timings: TimingsSchema,
    usage: z
      .object({ promptTokens: z.number().optional(), outputTokens: z.number().optional(), totalTokens: z.number().optional() })
      .nullable(),
    cost: CostSchema,
    attempts: z.number().int().openapi({ description: "Calls made to the image model, retries included" }),
    createdAt: z.string().datetime(),
  })
  .openapi("Generation");

/** A generation's result as GenerationSchema shows it: its image's URL, and none of the v1-only parts. */
export function toGenerationBody(c: Context<HonoEnv>, result: GenerationResult) {
  const { storageKey, enhancement, createdAt, generation: _, aliasChanges: __, ...data } = result;
  return {
    ...data,
    url: imageUrl(c, storageKey),
    enhancement: enhancement ? serializeEnhancementOutcome(enhancement) : null,
    createdAt: createdAt.toISOString(),
  };
}
