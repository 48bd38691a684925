import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import { lookUpPromptCache } from "../../services/enhancement";
import { generateImage } from "../../services/generation";
import { quoteGeneration } from "../../services/quotes";
import type { AppRouteHandler } from "../create-app";
import { reserveForBudget } from "../shared/generation-budget";
import { toGenerationBody } from "../shared/generation-schemas";
import type { textToImageRoute } from "./text-to-image.routes";

export const textToImage: AppRouteHandler<typeof textToImageRoute> = async (c) => {
  const body = c.req.valid("json");
  const template = body.enhancementOptions?.template ?? "general";
  if (body.dryRun) {
    // A quote spends no quota and reads no cache: the key check is its only round trip.
    await authorizeProject(c, { spendQuota: false });
    const quote = quoteGeneration(c.var.services, { prompt: body.prompt, autoEnhance: body.autoEnhance, template });
    return c.json({ success: true as const, data: quote }, 200);
  }
  // The prompt cache is read alongside the key check: one database round trip for both.
  const { caller, read: cachedEnhancement } = await authorizeProjectAlongside(c, async (keyHash) =>
    body.autoEnhance ? lookUpPromptCache(c.var.services, keyHash, body.prompt, template) : null,
  );
  const budget = await reserveForBudget(c, caller, { prompt: body.prompt, autoEnhance: body.autoEnhance, template });
  const result = await generateImage(c.var.services, caller, {
    prompt: body.prompt,
    filename: body.filename,
    aspectRatio: body.aspectRatio,
    outputFormat: body.outputFormat,
    quality: body.quality,
    autoEnhance: body.autoEnhance,
    template,
    cachedEnhancement,
    budget,
  });
  return c.json({ success: true as const, data: toGenerationBody(c, result) }, 201);
};
