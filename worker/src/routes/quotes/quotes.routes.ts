import { createRoute } from "@hono/zod-openapi";
import { commonErrorResponses, keyErrorResponses, keySecurity, problemResponse, successEnvelope } from "../../lib/openapi";
import { access } from "../../middleware/access";
import { QuoteSchema } from "../shared/quote-schemas";
import { TextToImageRequestSchema } from "../text-to-image/text-to-image.routes";

export const createQuoteRoute = createRoute({
  method: "post",
  path: "/api/quotes",
  tags: ["Generation"],
  operationId: "createQuote",
  summary: "Quote a text-to-image request before spending",
  description:
    "Takes the body of POST /api/text-to-image and answers what that generation would cost at most: an upper bound in USD micros with its breakdown, the provider and the models. Calls no model, stores nothing and spends no quota.",
  // A quote is not rate limited by the hourly quota: it spends nothing.
  middleware: [access.project({ rateLimited: false })],
  security: keySecurity,
  request: { body: { content: { "application/json": { schema: TextToImageRequestSchema } }, required: true } },
  responses: {
    200: { description: "The quote", content: { "application/json": { schema: successEnvelope(QuoteSchema) } } },
    400: problemResponse("Invalid request: the same checks as POST /api/text-to-image"),
    ...keyErrorResponses,
    ...commonErrorResponses,
  },
});
