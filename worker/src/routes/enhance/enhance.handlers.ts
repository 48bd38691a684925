import { authorizeProjectAlongside } from "../../middleware/access";
import { enhanceForCaller, lookUpPromptCache } from "../../services/enhancement";
import type { AppRouteHandler } from "../create-app";
import { serializeEnhancement } from "../shared/enhancement-schemas";
import type { enhanceRoute } from "./enhance.routes";

export const enhance: AppRouteHandler<typeof enhanceRoute> = async (c) => {
  const { prompt, template, enhancementOptions } = c.req.valid("json");
  const chosen = enhancementOptions?.template ?? template ?? "general";
  // The prompt cache is read alongside the key check: one database round trip for both.
  const { caller, read: cached } = await authorizeProjectAlongside(c, (keyHash) =>
    lookUpPromptCache(c.var.services, keyHash, prompt, chosen),
  );
  const enhancement = await enhanceForCaller(c.var.services, caller, prompt, chosen, cached);
  return c.json({ success: true as const, data: serializeEnhancement(enhancement) }, 200);
};
