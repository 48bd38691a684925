import { createRoute, z } from "@hono/zod-openapi";
import { MAX_PROJECT_PRESETS } from "../../domain/limits";
import { GRAVITIES, PRESET_NAME } from "../../images/transform/options";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";

const Watermark = z
  .object({
    imageId: z.string().uuid().openapi({ description: "One of the project's images (a PNG with transparency works best)" }),
    position: z.enum(GRAVITIES).default("southeast"),
    opacity: z.number().min(0).max(1).default(0.5),
    scale: z.number().min(0.01).max(1).default(0.2).openapi({ description: "Width as a fraction of the output's width" }),
    margin: z.number().int().min(0).max(1000).default(16).openapi({ description: "Pixels from the edges" }),
  })
  .strict();

export const SettingsBody = z
  .object({
    presets: z
      .record(z.string().regex(PRESET_NAME), z.string().min(1).max(200))
      .default({})
      .openapi({ description: `Up to ${MAX_PROJECT_PRESETS} named option sets`, example: { card: "w=600&h=400&fit=cover" } }),
    watermark: Watermark.nullable().default(null),
    watermarkByDefault: z.boolean().default(false),
  })
  .strict();

const SettingsView = z.object({
  presets: z.record(z.string(), z.string()),
  builtInPresets: z.record(z.string(), z.string()),
  watermark: Watermark.extend({}).nullable(),
  watermarkByDefault: z.boolean(),
});

export const getRoute = createRoute({
  method: "get",
  path: "/api/project/image-settings",
  tags: ["Images"],
  operationId: "getImageSettings",
  summary: "The project's transformation presets and watermark",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  responses: {
    200: { description: "The settings", content: { "application/json": { schema: successEnvelope(SettingsView) } } },
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});

export const putRoute = createRoute({
  method: "put",
  path: "/api/project/image-settings",
  tags: ["Images"],
  operationId: "setImageSettings",
  summary: "Replace the project's transformation presets and watermark",
  description:
    "Presets are unsigned shortcuts (`?preset=card`); the watermark is one of the project's images, applied with `watermark=1` or to every transformed response when watermarkByDefault is true. Saving purges the project's cached variants.",
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { body: { content: { "application/json": { schema: SettingsBody } }, required: true } },
  responses: {
    200: { description: "The settings", content: { "application/json": { schema: successEnvelope(SettingsView) } } },
    400: problemResponse("An invalid preset or watermark, each named in `errors`; nothing is saved"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
