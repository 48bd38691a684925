import { z } from "@hono/zod-openapi";

const UsdMicros = z.number().int().min(0);

/** What a generation was charged, in USD micros (1e-6 USD), priced by the price table of `priceVersion`. */
export const CostSchema = z
  .object({
    usdMicros: UsdMicros.openapi({
      description: "What the user is charged: 0 for the offline preview, and for a cached enhancement",
      example: 38_710,
    }),
    priceVersion: z.string().openapi({ description: "The version of the price table used", example: "2025-10-01" }),
    breakdown: z.object({
      enhancement: UsdMicros.openapi({ description: "The text-model call that improved the prompt" }),
      generation: UsdMicros.openapi({ description: "The image-model call" }),
    }),
  })
  .openapi("Cost");
