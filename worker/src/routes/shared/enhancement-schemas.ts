import { z } from "@hono/zod-openapi";
import { TEMPLATE_VALUES } from "../../domain/catalog";
import { IMPROVEMENTS } from "../../domain/enhancement";
import type { Enhancement } from "../../services/enhancement";
import type { EnhancementOutcome } from "../../services/generation";

/** `enhancementOptions` of text-to-image and enhance requests. */
export const EnhancementOptionsSchema = z
  .object({ template: z.enum(TEMPLATE_VALUES).optional().openapi({ description: 'Default "general"' }) })
  .strict()
  .openapi("EnhancementOptions");

export const EnhancementSchema = z
  .object({
    originalPrompt: z.string(),
    enhancedPrompt: z.string(),
    detectedLanguage: z.string().nullable().openapi({ description: "ISO 639-1 code", example: "ru" }),
    translated: z.boolean().openapi({ description: "Whether the enhanced prompt was translated to English" }),
    template: z.enum(TEMPLATE_VALUES),
    improvements: z.array(z.enum(IMPROVEMENTS)),
    enhancer: z
      .enum(["gemini", "template"])
      .openapi({ description: '"template" is the offline enhancer used without GEMINI_API_KEY' }),
    model: z.string(),
    cached: z.boolean().openapi({ description: "Served from the prompt cache without calling the text model" }),
  })
  .openapi("Enhancement");

export const EnhancementOutcomeSchema = z.union([
  EnhancementSchema.extend({ applied: z.literal(true) }),
  z.object({ applied: z.literal(false), reason: z.string() }),
]);

/** The public fields of an enhancement (token usage stays internal; its cost is in the generation's `cost`). */
export function serializeEnhancement(enhancement: Enhancement) {
  const { usage: _usage, tokens: _tokens, ...visible } = enhancement;
  return visible;
}

export function serializeEnhancementOutcome(outcome: EnhancementOutcome) {
  return outcome.applied ? { ...serializeEnhancement(outcome), applied: true as const } : outcome;
}
