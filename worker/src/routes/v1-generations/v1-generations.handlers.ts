import { DEFAULT_ASPECT_RATIO } from "../../domain/catalog";
import { nearestAspectRatio } from "../../images/validate-upload";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { offsetPagination } from "../../lib/openapi";
import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import { assertAssignableAliases } from "../../services/aliases";
import { recordAudit } from "../../services/audit";
import { lookUpPromptCache } from "../../services/enhancement";
import { type GenerationRequest, generateImage } from "../../services/generation";
import { cancelQueuedGeneration, hasEnded } from "../../services/queued-generations";
import {
  chooseReferences,
  findGenerationToDelete,
  findGenerationToRegenerate,
  generationDeletedStatement,
  planReferences,
  readGenerations,
  referenceShapes,
  resolvePlan,
  updateGenerationMetadata,
} from "../../services/v1-generations";
import type { AppRouteHandler } from "../create-app";
import { acceptAsync, asyncPreference } from "../shared/async-generation";
import { deleteProjectImage } from "../shared/delete-image";
import { reserveForBudget } from "../shared/generation-budget";
import { regenerateInPlace } from "../shared/regenerate-in-place";
import { requestNotify } from "../shared/request-webhook";
import { generationListFilter } from "../shared/v1-list-filters";
import type {
  cancelGenerationRoute,
  createGenerationRoute,
  deleteGenerationRoute,
  getGenerationRoute,
  listGenerationsRoute,
  regenerateGenerationRoute,
  updateGenerationRoute,
} from "./v1-generations.routes";
import { toV1Generation, viewOfResult } from "./v1-generations.schemas";

export const createGeneration: AppRouteHandler<typeof createGenerationRoute> = async (c) => {
  const body = c.req.valid("json");
  const template = body.enhancementOptions?.template ?? "general";
  // Malformed input is refused before the key check: it spends no quota.
  const preference = asyncPreference(c.req.valid("header").prefer);
  const notify = requestNotify(c, body);
  const plan = planReferences(body.referenceImages, body.prompt);
  assertAssignableAliases([
    ...(body.alias ? [["alias", body.alias] as [string, string]] : []),
    ...(body.flowAlias ? [["flowAlias", body.flowAlias] as [string, string]] : []),
  ]);
  // Omitted, the generation starts a flow of its own (its row is written once it is reused).
  const flowId = body.flowId === undefined ? crypto.randomUUID() : body.flowId;
  const names = plan.explicit.length + plan.fromPrompt.length;
  const { db } = c.var.services;
  // References, the flow alias and the prompt cache are read alongside the key check.
  const { caller, read } = await authorizeProjectAlongside(c, async (keyHash) => {
    const [resolved, cachedEnhancement] = await Promise.all([
      resolvePlan(db, { keyHash }, plan, { flowId, flowAlias: body.flowAlias }),
      // With references the cache key names them: the enhancement reads the cache itself.
      body.autoEnhance && names === 0 ? lookUpPromptCache(c.var.services, keyHash, body.prompt, template) : null,
    ]);
    return { resolved, cachedEnhancement };
  });
  const references = chooseReferences(read.resolved);
  const first = references[0]?.image;
  const aspectRatio = body.aspectRatio ?? (first ? nearestAspectRatio(first.width, first.height).ratio : DEFAULT_ASPECT_RATIO);
  const budget = await reserveForBudget(c, caller, {
    prompt: body.prompt,
    autoEnhance: body.autoEnhance,
    template,
    references: referenceShapes(references),
  });
  // A flow named by the client, or given an alias, gets its row; a fresh one stays lazy.
  const flowRow = flowId !== null && (body.flowId !== undefined || body.flowAlias !== undefined);
  const meta = body.meta ?? {};
  const request: GenerationRequest = {
    prompt: body.prompt,
    filename: body.filename,
    aspectRatio,
    outputFormat: body.outputFormat,
    quality: body.quality,
    autoEnhance: body.autoEnhance,
    template,
    cachedEnhancement: names === 0 ? read.cachedEnhancement : undefined,
    budget,
    references,
    flowId,
    aliases: {
      ...(body.alias ? { alias: body.alias } : {}),
      ...(flowRow && flowId ? { flow: { id: flowId, ...(body.flowAlias ? { alias: body.flowAlias } : {}) } } : {}),
    },
    meta,
    notify,
  };
  if (preference) {
    const { generationId, status } = await acceptAsync(c, caller, request, preference);
    const { views } = await readGenerations(db, { projectId: caller.project.id }, { id: generationId, limit: 1, offset: 0 });
    const [view] = views;
    if (!view) throw new AppError("GENERATION_NOT_FOUND", `No generation ${generationId} in this project`);
    return c.json({ success: true as const, data: toV1Generation(c, caller, view) }, hasEnded(status) ? 201 : 202);
  }
  const result = await generateImage(c.var.services, caller, request);
  // Moving an alias changes what its URL shows: worth an audit line.
  const client = clientInfo(c);
  for (const change of result.aliasChanges) {
    c.var.services.defer(() =>
      recordAudit(db, {
        action: "alias.changed",
        actorKeyId: caller.keyId,
        target: { type: "image", id: result.imageId },
        organizationId: caller.organization.id,
        projectId: caller.project.id,
        client,
        metadata: { ...change },
      }),
    );
  }
  const view = viewOfResult(caller, result, {
    prompt: body.prompt,
    template: body.autoEnhance ? template : null,
    references,
    meta,
  });
  return c.json({ success: true as const, data: toV1Generation(c, caller, view, result.enhancement) }, 201);
};

export const getGeneration: AppRouteHandler<typeof getGenerationRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const { db } = c.var.services;
  // Read alongside the key check: one database round trip.
  const { caller, read } = await authorizeProjectAlongside(c, (keyHash) =>
    readGenerations(db, { keyHash }, { id, limit: 1, offset: 0 }),
  );
  const [view] = read.views;
  if (!view) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  return c.json({ success: true as const, data: toV1Generation(c, caller, view) }, 200);
};

export const listGenerations: AppRouteHandler<typeof listGenerationsRoute> = async (c) => {
  const query = c.req.valid("query");
  const { db } = c.var.services;
  const { caller, read } = await authorizeProjectAlongside(c, (keyHash) =>
    readGenerations(db, { keyHash }, generationListFilter(query)),
  );
  return c.json(
    {
      success: true as const,
      data: read.views.map((view) => toV1Generation(c, caller, view)),
      pagination: offsetPagination(read.total, query.limit, query.offset),
    },
    200,
  );
};

export const deleteGeneration: AppRouteHandler<typeof deleteGenerationRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const { db, defer } = c.var.services;
  const { caller, read: generation } = await authorizeProjectAlongside(c, (keyHash) =>
    findGenerationToDelete(db, { keyHash }, id),
  );
  if (!generation) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  const { image } = generation;
  const deleted = generationDeletedStatement(db, generation.id);
  // An aliased image is still named by its alias (and a watermark is in use): it outlives its generation.
  // Otherwise it goes as any image does, the generation marked deleted in the same transaction.
  const imageDeleted =
    image !== null &&
    !image.aliased &&
    (await deleteProjectImage(c, caller, image, {
      watermark: "keep",
      alongside: [deleted],
      auditMetadata: { generationId: generation.id },
    }));
  if (!imageDeleted) await deleted;
  defer(() =>
    recordAudit(db, {
      action: "generation.deleted",
      actorKeyId: caller.keyId,
      target: { type: "generation", id: generation.id },
      organizationId: caller.organization.id,
      projectId: caller.project.id,
      client: clientInfo(c),
    }),
  );
  return c.json(
    {
      success: true as const,
      data: { id: generation.id, deleted: true as const, outputImageKept: image !== null && !imageDeleted },
    },
    200,
  );
};

export const regenerateGeneration: AppRouteHandler<typeof regenerateGenerationRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const caller = await authorizeProject(c);
  const generation = await findGenerationToRegenerate(c.var.services.db, caller.project.id, id);
  if (!generation) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  return c.json({ success: true as const, data: await regenerateInPlace(c, caller, generation, {}) }, 200);
};

export const updateGeneration: AppRouteHandler<typeof updateGenerationRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  const regenerates = body.prompt !== undefined || body.aspectRatio !== undefined;
  // Only a change that regenerates spends a request of the quota.
  const caller = await authorizeProject(c, { spendQuota: regenerates });
  const { db } = c.var.services;
  const generation = await findGenerationToRegenerate(db, caller.project.id, id);
  if (!generation) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  if (regenerates) {
    // flowId and meta are written with the regeneration, in its transaction: a failed one changes nothing.
    const data = await regenerateInPlace(c, caller, generation, body);
    return c.json({ success: true as const, data }, 200);
  }
  await updateGenerationMetadata(db, generation, { flowId: body.flowId, meta: body.meta });
  const { views } = await readGenerations(db, { projectId: caller.project.id }, { id, limit: 1, offset: 0 });
  const [view] = views;
  if (!view) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  return c.json({ success: true as const, data: toV1Generation(c, caller, view) }, 200);
};

export const cancelGeneration: AppRouteHandler<typeof cancelGenerationRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const caller = await authorizeProject(c);
  const { services } = c.var;
  const outcome = await cancelQueuedGeneration(services, caller.project.id, id);
  if (outcome === "not-found") throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  if (outcome === "not-cancelable") {
    throw new AppError(
      "GENERATION_NOT_CANCELABLE",
      `Generation ${id} has already ended, or was not asynchronous: only an asynchronous generation that has not ended can be canceled`,
    );
  }
  const { views } = await readGenerations(services.db, { projectId: caller.project.id }, { id, limit: 1, offset: 0 });
  const [view] = views;
  if (!view) throw new AppError("GENERATION_NOT_FOUND", `No generation ${id} in this project`);
  const data = toV1Generation(c, caller, view);
  // A running one is not stopped: it ends, and its image is discarded.
  return outcome === "discarding" ? c.json({ success: true as const, data }, 202) : c.json({ success: true as const, data }, 200);
};
