import { createRoute, z } from "@hono/zod-openapi";
import { version } from "../../../package.json";
import { ASPECT_RATIOS, OUTPUT_FORMATS, TEMPLATES, UPLOAD_MIME_TYPES } from "../domain/catalog";
import { DEFAULT_HOURLY_LIMIT, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PROMPT_LENGTH, MAX_UPLOAD_BYTES } from "../domain/limits";
import { createRouter } from "../lib/create-app";
import { commonErrorResponses, successEnvelope } from "../lib/openapi";
import { access } from "../middleware/access";

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
  summary: "What the API offers: limits, formats, aspect ratios and templates",
  middleware: [access.public()],
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
  },
  formats: { output: [...OUTPUT_FORMATS], upload: [...UPLOAD_MIME_TYPES] },
  aspectRatios: Object.entries(ASPECT_RATIOS).map(([ratio, size]) => ({ ratio, ...size })),
  templates: Object.entries(TEMPLATES).map(([id, description]) => ({ id, description })),
};

export const infoRoutes = createRouter().openapi(route, (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ success: true as const, data: info }, 200);
});
