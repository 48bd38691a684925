import { createRoute, z } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import { ASPECT_RATIOS, OUTPUT_FORMATS, TEMPLATES, UPLOAD_MIME_TYPES } from "../domain/catalog";
import {
  DEFAULT_HOURLY_LIMIT,
  DEFAULT_PAGE_SIZE,
  MAX_IMAGE_PIXELS,
  MAX_OUTPUT_DIMENSION,
  MAX_OUTPUT_PIXELS,
  MAX_PAGE_SIZE,
  MAX_PROMPT_LENGTH,
  MAX_UPLOAD_BYTES,
  MAX_VARIANTS_PER_IMAGE,
} from "../domain/limits";
import { BUILT_IN_PRESETS } from "../images/transform/presets";
import { commonErrorResponses, publicSecurity, successEnvelope } from "../lib/openapi";
import { access } from "../middleware/access";
import { createRouter } from "./create-app";

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
    }),
    transformations: z.object({
      maxOutputDimension: z.number().int(),
      maxOutputPixels: z.number().int(),
      maxVariantsPerImage: z.number().int(),
      presets: z.record(z.string(), z.string()),
    }),
    formats: z.object({ output: z.array(z.string()), upload: z.array(z.string()) }),
    aspectRatios: z.array(z.object({ ratio: z.string(), name: z.string(), width: z.number(), height: z.number() })),
    templates: z.array(z.object({ id: z.string(), description: z.string() })),
  })
  .openapi("Info");

const route = createRoute({
  method: "get",
  path: "/api/info",
  tags: ["System"],
  operationId: "getInfo",
  summary: "What the API offers: limits, formats, aspect ratios, templates and transformation presets",
  middleware: [access.public()],
  security: publicSecurity,
  responses: {
    200: { description: "Platform information", content: { "application/json": { schema: successEnvelope(InfoSchema) } } },
    ...commonErrorResponses,
  },
});

// Built once: everything in it is a constant of this deployment.
const info = {
  name: "Banatie",
  version,
  limits: {
    maxUploadBytes: MAX_UPLOAD_BYTES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    maxPageSize: MAX_PAGE_SIZE,
    defaultPageSize: DEFAULT_PAGE_SIZE,
    defaultHourlyLimit: DEFAULT_HOURLY_LIMIT,
    maxImagePixels: MAX_IMAGE_PIXELS,
  },
  transformations: {
    maxOutputDimension: MAX_OUTPUT_DIMENSION,
    maxOutputPixels: MAX_OUTPUT_PIXELS,
    maxVariantsPerImage: MAX_VARIANTS_PER_IMAGE,
    presets: BUILT_IN_PRESETS,
  },
  formats: { output: [...OUTPUT_FORMATS], upload: [...UPLOAD_MIME_TYPES] },
  aspectRatios: Object.entries(ASPECT_RATIOS).map(([ratio, size]) => ({ ratio, ...size })),
  templates: Object.entries(TEMPLATES).map(([id, description]) => ({ id, description })),
};

export const infoRoutes = createRouter().openapi(route, (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ success: true as const, data: info }, 200);
});
