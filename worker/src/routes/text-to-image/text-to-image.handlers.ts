import type { Context } from "hono";
import { imageUrl } from "../../delivery/image-urls";
import type { ProjectCaller } from "../../lib/access-types";
import { clientInfo } from "../../lib/client-address";
import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import type { HonoEnv } from "../../middleware/env";
import { budgetHeaders, budgetSettlement, reserveBudget } from "../../services/budgets";
import { lookUpPromptCache } from "../../services/enhancement";
import { generateImage } from "../../services/generation";
import { type QuoteRequest, quoteGeneration } from "../../services/quotes";
import type { AppRouteHandler } from "../create-app";
import { serializeEnhancementOutcome } from "../shared/enhancement-schemas";
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
  const { storageKey, enhancement, createdAt, ...data } = result;
  return c.json(
    {
      success: true as const,
      data: {
        ...data,
        url: imageUrl(c, storageKey),
        enhancement: enhancement ? serializeEnhancementOutcome(enhancement) : null,
        createdAt: createdAt.toISOString(),
      },
    },
    201,
  );
};

/**
 * With a monthly budget on the key or its project, reserves the request's quoted upper bound
 * (one more database round trip, before any model call) or refuses it with 402; says in the
 * headers what is left. Without a budget, costs nothing.
 */
async function reserveForBudget(c: Context<HonoEnv>, caller: ProjectCaller, request: QuoteRequest) {
  if (caller.budgets.key === null && caller.budgets.project === null) return undefined;
  const { db, defer } = c.var.services;
  const quote = quoteGeneration(c.var.services, request);
  const reservation = await reserveBudget(db, caller, quote.usdMicros);
  if (!reservation) return undefined;
  for (const [name, value] of Object.entries(budgetHeaders(reservation.standings, reservation.resetAt))) c.header(name, value);
  return {
    settlement: budgetSettlement({ db, defer }, reservation, { organizationId: caller.organization.id, client: clientInfo(c) }),
  };
}
