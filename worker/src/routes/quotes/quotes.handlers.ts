import { authorizeProjectAlongside } from "../../middleware/access";
import { quoteGeneration } from "../../services/quotes";
import { chooseReferences, planReferences, referenceShapes, resolvePlan } from "../../services/v1-generations";
import type { AppRouteHandler } from "../create-app";
import type { createQuoteRoute } from "./quotes.routes";

export const createQuote: AppRouteHandler<typeof createQuoteRoute> = async (c) => {
  const body = c.req.valid("json");
  const template = body.enhancementOptions?.template ?? "general";
  // The references are planned, resolved and chosen as the v1 create does, so the quote is the
  // bound its budget reserves. Malformed ones are refused before the key check.
  const plan = planReferences(body.referenceImages, body.prompt);
  const { db } = c.var.services;
  // Their sizes come from their rows, read alongside the key check: no image is read.
  const { read } = await authorizeProjectAlongside(c, (keyHash) =>
    resolvePlan(db, { keyHash }, plan, { flowId: body.flowId ?? null }),
  );
  const references = chooseReferences(read);
  const quote = quoteGeneration(c.var.services, {
    prompt: body.prompt,
    autoEnhance: body.autoEnhance,
    template,
    references: referenceShapes(references),
  });
  return c.json({ success: true as const, data: quote }, 200);
};
