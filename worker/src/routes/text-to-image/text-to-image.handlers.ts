import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import { lookUpPromptCache } from "../../services/enhancement";
import { type GenerationRequest, generateImage } from "../../services/generation";
import { hasEnded, readEndedGeneration } from "../../services/queued-generations";
import { quoteGeneration } from "../../services/quotes";
import type { AppRouteHandler } from "../create-app";
import { acceptAsync, asyncPreference, generationLocation } from "../shared/async-generation";
import { reserveForBudget } from "../shared/generation-budget";
import { toGenerationBody } from "../shared/generation-schemas";
import { requestNotify } from "../shared/request-webhook";
import type { textToImageRoute } from "./text-to-image.routes";

export const textToImage: AppRouteHandler<typeof textToImageRoute> = async (c) => {
  const body = c.req.valid("json");
  const template = body.enhancementOptions?.template ?? "general";
  // Read before the key check: a malformed preference spends nothing. A quote ignores it.
  const preference = body.dryRun ? null : asyncPreference(c.req.valid("header").prefer);
  const notify = requestNotify(c, body);
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
  const request: GenerationRequest = {
    prompt: body.prompt,
    filename: body.filename,
    aspectRatio: body.aspectRatio,
    outputFormat: body.outputFormat,
    quality: body.quality,
    autoEnhance: body.autoEnhance,
    template,
    cachedEnhancement,
    budget,
    notify,
  };
  if (preference) {
    const { generationId, status } = await acceptAsync(c, caller, request, preference);
    // Ended within wait=N: answered as the synchronous request would have (a failure throws its problem).
    const result = hasEnded(status) ? await readEndedGeneration(c.var.services.db, caller.project.id, generationId) : null;
    if (result) return c.json({ success: true as const, data: toGenerationBody(c, result) }, 201);
    const data = {
      generationId,
      status: status === "succeeded" ? ("success" as const) : status,
      statusUrl: generationLocation(generationId),
    };
    return c.json({ success: true as const, data }, 202);
  }
  const result = await generateImage(c.var.services, caller, request);
  return c.json({ success: true as const, data: toGenerationBody(c, result) }, 201);
};
