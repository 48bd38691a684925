import { authorizeProject } from "../../middleware/access";
import { quoteGeneration } from "../../services/quotes";
import type { AppRouteHandler } from "../create-app";
import type { createQuoteRoute } from "./quotes.routes";

export const createQuote: AppRouteHandler<typeof createQuoteRoute> = async (c) => {
  const body = c.req.valid("json");
  await authorizeProject(c);
  const template = body.enhancementOptions?.template ?? "general";
  const quote = quoteGeneration(c.var.services, { prompt: body.prompt, autoEnhance: body.autoEnhance, template });
  return c.json({ success: true as const, data: quote }, 200);
};
