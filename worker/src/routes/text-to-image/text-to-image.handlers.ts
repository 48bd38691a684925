import { imageUrl } from "../../delivery/image-urls";
import { authorizeProject } from "../../middleware/access";
import { generateImage } from "../../services/generation";
import type { AppRouteHandler } from "../create-app";
import { serializeEnhancementOutcome } from "../shared/enhancement-schemas";
import type { textToImageRoute } from "./text-to-image.routes";

export const textToImage: AppRouteHandler<typeof textToImageRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const body = c.req.valid("json");
  const result = await generateImage(c.var.services, caller, {
    prompt: body.prompt,
    filename: body.filename,
    aspectRatio: body.aspectRatio,
    outputFormat: body.outputFormat,
    quality: body.quality,
    autoEnhance: body.autoEnhance,
    template: body.enhancementOptions?.template ?? "general",
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
