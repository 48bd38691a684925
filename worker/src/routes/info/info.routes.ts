import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, publicSecurity, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

const micros = z.number().int().min(0);
const ByModality = z.object({ text: micros, image: micros });

const PricingSchema = z
  .object({
    priceVersion: z.string().openapi({ description: "The price table's version: the date its prices took effect" }),
    provider: z.enum(["gemini", "preview"]).openapi({
      description: 'The provider this deployment generates with; "preview" (without GEMINI_API_KEY) costs nothing',
    }),
    inUse: z.object({ image: z.string(), enhancement: z.string() }).openapi({ description: "The models this deployment calls" }),
    models: z.array(
      z.object({
        provider: z.string(),
        model: z.string(),
        usdMicrosPerMillionTokens: z
          .object({ input: ByModality, output: ByModality })
          .openapi({ description: "USD micros (1,000,000 = $1) per 1,000,000 tokens, by direction and modality" }),
      }),
    ),
    image: z
      .object({ model: z.string(), outputTokens: z.number().int(), usdMicros: micros })
      .openapi({ description: "The price of one image of the default image model: its image output tokens" }),
  })
  .openapi("Pricing");

const InfoSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    limits: z.object({
      maxUploadBytes: z.number().int(),
      maxPromptLength: z.number().int(),
      maxPageSize: z.number().int(),
      defaultPageSize: z.number().int(),
      defaultHourlyLimit: z.number().int(),
      maxImagePixels: z.number().int(),
      maxReferences: z.number().int().openapi({ description: "Most reference images one generation takes" }),
    }),
    transformations: z.object({
      maxOutputDimension: z.number().int(),
      maxOutputPixels: z.number().int(),
      maxJpegOutputPixels: z.number().int().openapi({ description: "Most pixels of a JPEG output below quality 90." }),
      maxJpegOutputPixelsFullChroma: z
        .number()
        .int()
        .openapi({ description: "Most pixels of a JPEG output from quality 90, where chroma is kept whole (4:4:4)." }),
      maxVariantsPerImage: z.number().int(),
      presets: z.record(z.string(), z.string()),
    }),
    formats: z.object({ output: z.array(z.string()), upload: z.array(z.string()) }),
    aspectRatios: z.array(z.object({ ratio: z.string(), name: z.string(), width: z.number(), height: z.number() })),
    templates: z.array(z.object({ id: z.string(), description: z.string() })),
    pricing: PricingSchema,
  })
  .openapi("Info");

export const infoRoute = createRoute({
  method: "get",
  path: "/api/info",
  tags: ["System"],
  operationId: "getInfo",
  summary: "What the API offers: limits, formats, aspect ratios, templates, transformation presets and prices",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: { description: "Platform information", content: { "application/json": { schema: successEnvelope(InfoSchema) } } },
    ...commonErrorResponses,
  },
});
