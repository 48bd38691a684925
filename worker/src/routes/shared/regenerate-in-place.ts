/** Regenerating a v1 generation in place: one path for the generation's and the flow's regenerate, and PUT. */
import type { Context } from "hono";
import { purgeImages } from "../../delivery/edge-cache";
import { imageUrlBase } from "../../delivery/image-urls";
import type { AspectRatio, Template } from "../../domain/catalog";
import type { ProjectCaller } from "../../lib/access-types";
import type { HonoEnv } from "../../middleware/env";
import { regenerateImage } from "../../services/generation";
import { variantsOf } from "../../services/image-variants";
import {
  chooseReferences,
  type GenerationToRegenerate,
  generationMetadataStatements,
  planReferences,
  referenceShapes,
  resolvePlan,
} from "../../services/v1-generations";
import { toV1Generation, viewOfResult } from "../v1-generations/v1-generations.schemas";
import { reserveForBudget } from "./generation-budget";

/**
 * Regenerates a generation in place with its references found again now (before its creation, so
 * @last is never its own output), then deletes the object it replaced and purges its URLs. A new
 * flowId or meta is written in the regeneration's own transaction (references resolve in the new
 * flow): if the regeneration fails, nothing of the request is kept.
 */
export async function regenerateInPlace(
  c: Context<HonoEnv>,
  caller: ProjectCaller,
  current: GenerationToRegenerate,
  changes: { prompt?: string; aspectRatio?: AspectRatio; flowId?: string | null; meta?: Record<string, unknown> },
) {
  const { db, store, defer } = c.var.services;
  const metadata = changes.flowId !== undefined || changes.meta !== undefined;
  const alongside = metadata ? generationMetadataStatements(db, current, { flowId: changes.flowId, meta: changes.meta }) : [];
  const generation = {
    ...current,
    ...(changes.flowId !== undefined ? { flowId: changes.flowId } : {}),
    ...(changes.meta !== undefined ? { meta: changes.meta } : {}),
  };
  const prompt = changes.prompt ?? generation.originalPrompt;
  const autoEnhance = generation.template !== null;
  const template = (generation.template ?? "general") as Template;
  const plan = planReferences(generation.explicitSpecs, prompt);
  const resolved = await resolvePlan(db, { projectId: caller.project.id }, plan, {
    flowId: generation.flowId,
    before: generation.createdAt,
  });
  const references = chooseReferences(resolved);
  const budget = await reserveForBudget(c, caller, {
    prompt,
    autoEnhance,
    template,
    references: referenceShapes(references),
  });
  const variants = generation.image ? await variantsOf(db, { imageId: generation.image.id }) : [];
  const result = await regenerateImage(
    c.var.services,
    caller,
    {
      prompt,
      aspectRatio: changes.aspectRatio ?? generation.aspectRatio,
      outputFormat: generation.outputFormat,
      autoEnhance,
      template,
      budget,
      references,
      flowId: generation.flowId,
      meta: generation.meta,
      // Its outcome goes to the project's webhook endpoint, as a synchronous generation's does.
      notify: { imageUrlBase: imageUrlBase(c) },
    },
    { generationId: generation.id, image: generation.image, filename: generation.image?.filename ?? null, alongside },
  );
  const replaced = result.replacedStorageKey;
  if (replaced) {
    // Nothing points at the old object any more; the orphan sweep is the backstop if this fails.
    defer(async () => {
      await store.delete(replaced);
      await purgeImages(imageUrlBase(c), [replaced, ...variants]);
    });
  }
  const view = viewOfResult(caller, result, {
    prompt,
    template: autoEnhance ? template : null,
    references,
    meta: generation.meta,
    regenerationCount: result.regenerationCount,
  });
  return toV1Generation(c, caller, view, result.enhancement);
}
