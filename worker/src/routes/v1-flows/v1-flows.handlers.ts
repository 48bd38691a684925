import type { Context } from "hono";
import { auditEvents } from "../../db/schema";
import { purgeImages } from "../../delivery/edge-cache";
import { imageUrlBase } from "../../delivery/image-urls";
import type { ProjectCaller } from "../../lib/access-types";
import { clientInfo } from "../../lib/client-address";
import { AppError } from "../../lib/errors";
import { logFailure } from "../../lib/log";
import { offsetPagination } from "../../lib/openapi";
import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import type { HonoEnv } from "../../middleware/env";
import { type AliasChange, assertAssignableAliases } from "../../services/aliases";
import { type AuditEventInput, auditRow } from "../../services/audit";
import { type DeletedFlow, deleteFlowRows, getFlow, listFlows, mergeFlowAliases, removeFlowAlias } from "../../services/flows";
import { variantsOf } from "../../services/image-variants";
import { findNewestFlowGeneration, readGenerations } from "../../services/v1-generations";
import { listV1Images } from "../../services/v1-images";
import type { AppRouteHandler } from "../create-app";
import { regenerateInPlace } from "../shared/regenerate-in-place";
import { generationListFilter, imageListFilter } from "../shared/v1-list-filters";
import { slugsOf, toV1Flow, toV1Image } from "../shared/v1-schemas";
import { toV1Generation } from "../v1-generations/v1-generations.schemas";
import type {
  deleteAliasRoute,
  deleteRoute,
  getRoute,
  listGenerationsRoute,
  listImagesRoute,
  listRoute,
  putAliasesRoute,
  regenerateRoute,
} from "./v1-flows.routes";

// Reads run alongside the key check (one round trip): they see only the key's own project.

export const listFlowsHandler: AppRouteHandler<typeof listRoute> = async (c) => {
  const { limit, offset } = c.req.valid("query");
  const {
    read: { flows, total },
  } = await authorizeProjectAlongside(c, (keyHash) => listFlows(c.var.services.db, { keyHash }, { limit, offset }));
  return c.json({ success: true as const, data: flows.map(toV1Flow), pagination: offsetPagination(total, limit, offset) }, 200);
};

export const getFlowHandler: AppRouteHandler<typeof getRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const { read: found } = await authorizeProjectAlongside(c, (keyHash) => getFlow(c.var.services.db, { keyHash }, id));
  const flow = found ?? flowNotFound(id);
  return c.json({ success: true as const, data: toV1Flow(flow) }, 200);
};

/**
 * A flow's own list: the flow is looked up beside the list, both alongside the key check (one
 * round trip), and an unknown flow is 404 whatever the list found.
 */
async function readFlowList<T>(
  c: Context<HonoEnv>,
  flowId: string,
  list: (owner: { keyHash: string }) => Promise<T>,
): Promise<{ caller: ProjectCaller; list: T }> {
  const { db } = c.var.services;
  const {
    caller,
    read: [flow, read],
  } = await authorizeProjectAlongside(c, (keyHash) => Promise.all([getFlow(db, { keyHash }, flowId), list({ keyHash })]));
  if (!flow) flowNotFound(flowId);
  return { caller, list: read };
}

export const listFlowGenerationsHandler: AppRouteHandler<typeof listGenerationsRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const query = generationListFilter(c.req.valid("query"));
  const { caller, list } = await readFlowList(c, id, (owner) =>
    readGenerations(c.var.services.db, owner, { ...query, flowId: id }),
  );
  return c.json(
    {
      success: true as const,
      data: list.views.map((view) => toV1Generation(c, caller, view)),
      pagination: offsetPagination(list.total, query.limit, query.offset),
    },
    200,
  );
};

export const listFlowImagesHandler: AppRouteHandler<typeof listImagesRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const query = imageListFilter(c.req.valid("query"));
  const { caller, list } = await readFlowList(c, id, (owner) => listV1Images(c.var.services.db, owner, { ...query, flowId: id }));
  return c.json(
    {
      success: true as const,
      data: list.rows.map((row) => toV1Image(c, slugsOf(caller), row)),
      pagination: offsetPagination(list.total, query.limit, query.offset),
    },
    200,
  );
};

export const mergeAliasesHandler: AppRouteHandler<typeof putAliasesRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { id } = c.req.valid("param");
  const { flow, changes } = await mergeFlowAliases(c.var.services.db, caller.project.id, id, c.req.valid("json").aliases);
  auditAliasChanges(c, caller, changes);
  return c.json({ success: true as const, data: toV1Flow(flow) }, 200);
};

export const removeAliasHandler: AppRouteHandler<typeof deleteAliasRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { id, alias } = c.req.valid("param");
  assertAssignableAliases([["alias", alias]]);
  const { db } = c.var.services;
  const change = await removeFlowAlias(db, caller.project.id, id, alias);
  auditAliasChanges(c, caller, [change]);
  // The flow has a row (its alias needed one), so it is still there.
  const flow = (await getFlow(db, caller.project.id, id)) ?? flowNotFound(id);
  return c.json({ success: true as const, data: toV1Flow(flow) }, 200);
};

export const deleteFlowHandler: AppRouteHandler<typeof deleteRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { id } = c.req.valid("param");
  const deleted = await deleteFlowRows(c.var.services.db, caller.project.id, id);
  // The rows are gone already; the objects follow after the response (the orphan sweep is the backstop).
  c.var.services.defer(() => deleteImageObjects(c, deleted.deletedImages));
  auditFlowDeleted(c, caller, id, deleted);
  return c.json({ success: true as const, data: { id, deleted: true as const, imagesKept: deleted.imagesKept } }, 200);
};

export const regenerateFlowHandler: AppRouteHandler<typeof regenerateRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const { id } = c.req.valid("param");
  const { db } = c.var.services;
  const generation = await findNewestFlowGeneration(db, caller.project.id, id);
  if (!generation) {
    // Only on the way to a 404: say whether the flow is unknown or merely holds nothing to regenerate.
    if (!(await getFlow(db, caller.project.id, id))) flowNotFound(id);
    throw new AppError("GENERATION_NOT_FOUND", `Flow ${id} has no generation to regenerate`);
  }
  return c.json({ success: true as const, data: await regenerateInPlace(c, caller, generation, {}) }, 200);
};

function flowNotFound(id: string): never {
  throw new AppError("FLOW_NOT_FOUND", `This project has no flow ${id}`);
}

/**
 * Deletes the objects of images whose rows are marked deleted, then purges their edge copies,
 * originals and recorded variants, as deleting one image does. A failed step is logged; the
 * orphan sweep finishes what storage refused.
 */
async function deleteImageObjects(c: Context<HonoEnv>, images: DeletedFlow["deletedImages"]): Promise<void> {
  if (images.length === 0) return;
  const { db, store } = c.var.services;
  const keys = images.map((image) => image.storageKey);
  try {
    const [variants] = await Promise.all([
      variantsOf(db, { imageIds: images.map((image) => image.id) }),
      ...keys.map((key) => store.delete(key)),
    ]);
    await purgeImages(imageUrlBase(c), [...keys, ...variants]);
  } catch (error) {
    logFailure("deleting a flow's image objects failed", error, { requestId: c.get("requestId") });
    // Still purge the originals: no edge copy may outlive its row.
    await purgeImages(imageUrlBase(c), keys).catch(() => undefined);
  }
}

function recordAuditEvents(c: Context<HonoEnv>, events: AuditEventInput[]): void {
  if (events.length === 0) return;
  const { db, defer } = c.var.services;
  defer(() => db.insert(auditEvents).values(events.map(auditRow)));
}

function auditBase(c: Context<HonoEnv>, caller: ProjectCaller) {
  return {
    actorKeyId: caller.keyId,
    organizationId: caller.organization.id,
    projectId: caller.project.id,
    client: clientInfo(c),
  };
}

/** One `alias.changed` line per alias that now names another image (or none): it changes what a URL shows. */
function auditAliasChanges(c: Context<HonoEnv>, caller: ProjectCaller, changes: AliasChange[]): void {
  recordAuditEvents(
    c,
    changes.map((change) => ({
      ...auditBase(c, caller),
      action: "alias.changed" as const,
      target: { type: "image" as const, id: change.toImageId ?? change.fromImageId ?? "" },
      metadata: { ...change },
    })),
  );
}

function auditFlowDeleted(c: Context<HonoEnv>, caller: ProjectCaller, flowId: string, deleted: DeletedFlow): void {
  const base = auditBase(c, caller);
  recordAuditEvents(c, [
    {
      ...base,
      action: "flow.deleted",
      target: { type: "flow", id: flowId },
      metadata: {
        generationsDeleted: deleted.generationIds.length,
        imagesDeleted: deleted.deletedImages.length,
        imagesKept: deleted.imagesKept,
      },
    },
    ...deleted.deletedImages.map((image) => ({
      ...base,
      action: "image.deleted" as const,
      target: { type: "image" as const, id: image.id },
      metadata: { storageKey: image.storageKey, flowId },
    })),
  ]);
}
