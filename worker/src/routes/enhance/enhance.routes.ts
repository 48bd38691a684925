import { createRoute, z } from "@hono/zod-openapi";
import { TEMPLATE_VALUES } from "../../domain/catalog";
import { MAX_PROMPT_LENGTH } from "../../domain/limits";
import { commonErrorResponses, keySecurity, problemResponse, quotaKeyErrorResponses, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { EnhancementOptionsSchema, EnhancementSchema } from "../shared/enhancement-schemas";

const Body = z
  .object({
    prompt: z.string().trim().min(1).max(MAX_PROMPT_LENGTH).openapi({ example: "a cat on a roof at sunset" }),
    template: z
      .enum(TEMPLATE_VALUES)
      .optional()
      .openapi({ description: 'Default "general"; the same as enhancementOptions.template' }),
    enhancementOptions: EnhancementOptionsSchema.optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const option = body.enhancementOptions?.template;
    if (option !== undefined && body.template !== undefined && option !== body.template) {
      ctx.addIssue({
        code: "custom",
        path: ["enhancementOptions", "template"],
        message: `differs from template ("${body.template}"); give the template once`,
      });
    }
  })
  .openapi("EnhanceRequest");

export const enhanceRoute = createRoute({
  method: "post",
  path: "/api/enhance",
  tags: ["Generation"],
  operationId: "enhancePrompt",
  summary: "Improve a prompt without generating an image",
  description:
    "Detects the language, translates to English when the text model is available, and adds the template's professional details. Spends one request of the quota.",
  middleware: [access.project({ rateLimited: true })],
  security: keySecurity,
  request: { body: { content: { "application/json": { schema: Body } }, required: true } },
  responses: {
    200: { description: "The enhancement", content: { "application/json": { schema: successEnvelope(EnhancementSchema) } } },
    400: problemResponse("Invalid request"),
    502: problemResponse("The text model failed or answered something unusable"),
    504: problemResponse("The text model did not answer in time"),
    ...quotaKeyErrorResponses,
    ...commonErrorResponses,
    // After the shared responses, whose 503 covers only the database.
    503: problemResponse(
      "The text model stayed rate limited (UPSTREAM_RATE_LIMITED), or the database is down or did not answer in time (DATABASE_UNAVAILABLE)",
    ),
  },
});
