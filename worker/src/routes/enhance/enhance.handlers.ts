import { authorizeProject } from "../../middleware/access";
import { enhancePrompt } from "../../services/enhancement";
import type { AppRouteHandler } from "../create-app";
import { serializeEnhancement } from "../shared/enhancement-schemas";
import type { enhanceRoute } from "./enhance.routes";

export const enhance: AppRouteHandler<typeof enhanceRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { prompt, template, enhancementOptions } = c.req.valid("json");
  const enhancement = await enhancePrompt(
    c.var.services,
    caller.project.id,
    prompt,
    enhancementOptions?.template ?? template ?? "general",
  );
  return c.json({ success: true as const, data: serializeEnhancement(enhancement) }, 200);
};
