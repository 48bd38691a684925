/** Objects of Banatie's v1 API (`/api/v1`), shared by its routes, and their serializers. */
import { z } from "@hono/zod-openapi";
import { MAX_META_BYTES } from "../../domain/limits";
import type { FlowSummary } from "../../services/flows";

const utf8 = new TextEncoder();

/** The client's own JSON object on an image, generation or flow, at most MAX_META_BYTES as UTF-8 JSON. */
export const MetaSchema = z
  .record(z.string(), z.unknown())
  .refine((meta) => utf8.encode(JSON.stringify(meta)).byteLength <= MAX_META_BYTES, {
    message: `meta must be at most ${MAX_META_BYTES} bytes as JSON`,
  })
  .openapi({ description: `Any JSON object, at most ${MAX_META_BYTES} bytes as UTF-8 JSON`, example: { campaign: "spring" } });

export const FlowSchema = z
  .object({
    id: z.string().uuid(),
    aliases: z.record(z.string(), z.string().uuid()).openapi({
      description: "The flow's aliases: alias → image id",
      example: { "@hero": "9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d" },
    }),
    generationCount: z.number().int().openapi({ description: "Live generations of the flow" }),
    imageCount: z.number().int().openapi({ description: "Live images of the flow" }),
    meta: MetaSchema,
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("Flow");

export function toV1Flow(flow: FlowSummary): z.infer<typeof FlowSchema> {
  return { ...flow, createdAt: flow.createdAt.toISOString(), updatedAt: flow.updatedAt.toISOString() };
}
