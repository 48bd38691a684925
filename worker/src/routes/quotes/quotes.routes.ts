import { createRoute, z } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { QuoteSchema } from "../shared/quote-schemas";
import { refineQuality, textToImageFields } from "../text-to-image/text-to-image.routes";
import { CreateGenerationRequestSchema } from "../v1-generations/v1-generations.schemas";

const v1Fields = CreateGenerationRequestSchema.shape;

/** The text-to-image body, with the v1 create's references and flow, validated as the create validates them. */
const QuoteRequestSchema = z
  .object({
    ...textToImageFields,
    referenceImages: v1Fields.referenceImages,
    flowId: v1Fields.flowId.openapi({
      description: "The flow the generation would continue, so that @last, @first, @upload and its aliases resolve in it",
    }),
  })
  .strict()
  .superRefine(refineQuality)
  .openapi("QuoteRequest");

export const createQuoteRoute = createRoute({
  method: "post",
  path: "/api/quotes",
  tags: ["Generation"],
  operationId: "createQuote",
  summary: "Quote a generation before spending",
  description:
    "Takes the body of POST /api/text-to-image, optionally with the referenceImages and flowId of POST /api/v1/generations, and answers what that generation would cost at most: an upper bound in USD micros with its breakdown, the provider and the models. References count as the v1 create counts them: the explicit ones, then the prompt's @aliases that resolve, each by the tiles of its stored size; the answer is the bound the v1 create's budget reserves for the same request. Calls no model, reads no image, stores nothing and spends no quota.",
  // A quote is not rate limited by the hourly quota: it spends nothing.
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { body: { content: { "application/json": { schema: QuoteRequestSchema } }, required: true } },
  responses: {
    200: { description: "The quote", content: { "application/json": { schema: successEnvelope(QuoteSchema) } } },
    400: problemResponse(
      "Invalid request: the same checks as POST /api/text-to-image (VALIDATION_ERROR); a reference that is not an id or a valid @alias (ALIAS_FORMAT_CHECK), or more than 3 references (TOO_MANY_REFERENCES), as POST /api/v1/generations",
    ),
    404: problemResponse("A reference names no image of this project (IMAGE_NOT_FOUND); another project's image is never found"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
