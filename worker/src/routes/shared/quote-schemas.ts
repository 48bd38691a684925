import { z } from "@hono/zod-openapi";

const micros = (description: string) => z.number().int().min(0).openapi({ description });

/** A quote: what a generation would cost at most, in USD micros (1e-6 USD). */
export const QuoteSchema = z
  .object({
    usdMicros: micros(
      "An upper bound of the cost in USD micros (1,000,000 = $1) at this price version: each model call at its most (the enhancer's output cap, the longest prompt enhancement can give, one image and an allowance for text beside it)",
    ),
    qualifier: z.literal("estimate"),
    priceVersion: z.string().openapi({ description: "The version of the price table the quote used", example: "2025-10-01" }),
    breakdown: z.object({
      enhancement: micros("The prompt enhancer's text-model call; 0 when autoEnhance is false or the enhancer runs offline"),
      generation: micros("The image model's call"),
    }),
    provider: z
      .enum(["gemini", "preview"])
      .openapi({ description: '"preview" is the offline stand-in used without GEMINI_API_KEY, which costs nothing' }),
    models: z.object({
      image: z.string(),
      enhancement: z.string().nullable().openapi({ description: "Null when autoEnhance is false" }),
    }),
  })
  .openapi("Quote");
