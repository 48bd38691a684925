import type { Context } from "hono";
import { ALIAS_PATTERN } from "../../domain/aliases";
import { readUploadedImage, uploadBaseName } from "../../images/validate-upload";
import type { ProjectCaller } from "../../lib/access-types";
import { AppError } from "../../lib/errors";
import { offsetPagination } from "../../lib/openapi";
import { authorizeProject, authorizeProjectAlongside } from "../../middleware/access";
import type { HonoEnv } from "../../middleware/env";
import { assertAssignableAliases, type Resolution, referenceSpecs, resolveImageRefs } from "../../services/aliases";
import { findProjectImage } from "../../services/images";
import { storeUpload, type UploadPlacement } from "../../services/uploads";
import { findV1Image, listV1Images, setProjectAlias, updateV1Image, type V1ImageRow } from "../../services/v1-images";
import type { AppRouteHandler } from "../create-app";
import { auditAliasChanges } from "../shared/alias-audit";
import { deleteProjectImage } from "../shared/delete-image";
import { imageListFilter } from "../shared/v1-list-filters";
import { MetaSchema, slugsOf, toV1Image } from "../shared/v1-schemas";
import type { aliasRoute, deleteRoute, getRoute, listRoute, resolveRoute, updateRoute, uploadRoute } from "./v1-images.routes";

function imageNotFound(reference: string): AppError {
  return new AppError("IMAGE_NOT_FOUND", `No image ${reference} in this project`);
}

function invalidField(field: string, message: string): AppError {
  return new AppError("VALIDATION_ERROR", `${field}: ${message}`, { errors: [{ field, message }] });
}

/** The multipart `meta` field: a JSON object as text, held to the same limit as JSON bodies. */
function parseMetaField(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidField("meta", "must be a JSON object");
  }
  const parsed = MetaSchema.safeParse(value);
  if (!parsed.success) throw invalidField("meta", parsed.error.issues[0]?.message ?? "must be a JSON object");
  return parsed.data;
}

/**
 * Where the upload goes (S6): a named flow has its row written; "null" is no flow; no flowId is
 * a new flow id, written only when a flow alias needs its row.
 */
function placementOf(form: { alias?: string; flowId?: string; flowAlias?: string; meta?: string }): UploadPlacement {
  if (form.flowId === "null" && form.flowAlias !== undefined) throw invalidField("flowAlias", "needs a flow; flowId is null");
  const given: [string, string][] = [];
  if (form.alias !== undefined) given.push(["alias", form.alias]);
  if (form.flowAlias !== undefined) given.push(["flowAlias", form.flowAlias]);
  assertAssignableAliases(given);
  const named = form.flowId !== undefined && form.flowId !== "null";
  return {
    flowId: form.flowId === "null" ? null : (form.flowId?.toLowerCase() ?? crypto.randomUUID()),
    writeFlow: named || form.flowAlias !== undefined,
    alias: form.alias,
    flowAlias: form.flowAlias,
    meta: parseMetaField(form.meta),
  };
}

export const uploadImage: AppRouteHandler<typeof uploadRoute> = async (c) => {
  const form = c.req.valid("form");
  // Everything about the request is checked before the quota is spent.
  const { bytes, header } = await readUploadedImage(form.file);
  const placement = placementOf(form);
  const caller = await authorizeProject(c);

  const stored = await storeUpload(c.var.services, caller, {
    bytes,
    header,
    category: "uploads",
    filename: uploadBaseName(form.file),
    placement,
  });
  auditAliasChanges(c, caller, stored.aliasChanges);
  const image = await findV1Image(c.var.services.db, caller.project.id, stored.id);
  if (!image) throw imageNotFound(stored.id);
  return c.json({ success: true as const, data: toV1Image(c, slugsOf(caller), image) }, 201);
};

export const listImages: AppRouteHandler<typeof listRoute> = async (c) => {
  const query = imageListFilter(c.req.valid("query"));
  const caller = await authorizeProject(c);
  const { rows, total } = await listV1Images(c.var.services.db, { projectId: caller.project.id }, query);
  return c.json(
    {
      success: true as const,
      data: rows.map((row) => toV1Image(c, slugsOf(caller), row)),
      pagination: offsetPagination(total, query.limit, query.offset),
    },
    200,
  );
};

/**
 * Authorizes the key and finds the live image a reference (id or @alias) names in its project,
 * and how it was found. A malformed reference is refused before the key is checked; the
 * resolution runs alongside the key check.
 */
async function authorizeAndResolve(
  c: Context<HonoEnv>,
  field: string,
  reference: string,
  flowId: string | undefined,
): Promise<{ caller: ProjectCaller; image: V1ImageRow; resolution: Resolution }> {
  const [spec] = referenceSpecs([[field, reference]]);
  if (!spec) throw imageNotFound(reference);
  const { db } = c.var.services;
  const { caller, read } = await authorizeProjectAlongside(c, (keyHash) =>
    resolveImageRefs(db, { keyHash }, [spec], { flowId: flowId ?? null }),
  );
  const [resolution] = read;
  const image = resolution ? await findV1Image(db, caller.project.id, resolution.image.id) : null;
  if (!resolution || !image) {
    const hint = "alias" in spec && !flowId ? " (flow and technical aliases need flowId)" : "";
    throw imageNotFound(`${reference}${hint}`);
  }
  return { caller, image, resolution };
}

function resolvedBody(c: Context<HonoEnv>, caller: ProjectCaller, found: { image: V1ImageRow; resolution: Resolution }) {
  const { resolution } = found;
  return {
    success: true as const,
    data: {
      ...toV1Image(c, slugsOf(caller), found.image),
      resolution:
        resolution.scope === "id" || resolution.alias === null
          ? null
          : { alias: resolution.alias, scope: resolution.scope, flowId: resolution.flowId },
    },
  };
}

export const getImage: AppRouteHandler<typeof getRoute> = async (c) => {
  const { id: idOrAlias } = c.req.valid("param");
  const { caller, ...found } = await authorizeAndResolve(c, "id", idOrAlias, c.req.valid("query").flowId);
  return c.json(resolvedBody(c, caller, found), 200);
};

export const resolveAlias: AppRouteHandler<typeof resolveRoute> = async (c) => {
  const { alias } = c.req.valid("param");
  if (!ALIAS_PATTERN.test(alias)) {
    throw new AppError("ALIAS_FORMAT_CHECK", `alias: "${alias}" is not an @alias`, {
      errors: [{ field: "alias", message: `"${alias}" is not an @alias` }],
    });
  }
  const { caller, ...found } = await authorizeAndResolve(c, "alias", alias, c.req.valid("query").flowId);
  return c.json(resolvedBody(c, caller, found), 200);
};

export const updateImage: AppRouteHandler<typeof updateRoute> = async (c) => {
  const { id: idOrAlias } = c.req.valid("param");
  const changes = c.req.valid("json");
  const { caller, image } = await authorizeAndResolve(c, "id", idOrAlias, c.req.valid("query").flowId);
  const updated = await updateV1Image(c.var.services.db, caller.project.id, image.id, changes);
  if (!updated) throw imageNotFound(idOrAlias);
  return c.json({ success: true as const, data: toV1Image(c, slugsOf(caller), updated) }, 200);
};

export const setAlias: AppRouteHandler<typeof aliasRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const { alias } = c.req.valid("json");
  if (alias !== null) assertAssignableAliases([["alias", alias]]);
  const caller = await authorizeProject(c);
  const result = await setProjectAlias(c.var.services.db, caller.project.id, id, alias);
  if (!result) throw imageNotFound(id);
  auditAliasChanges(c, caller, result.changes);
  return c.json({ success: true as const, data: toV1Image(c, slugsOf(caller), result.image) }, 200);
};

export const deleteImage: AppRouteHandler<typeof deleteRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const caller = await authorizeProject(c);
  const image = await findProjectImage(c.var.services.db, caller.project.id, id);
  if (!image) throw imageNotFound(id);
  await deleteProjectImage(c, caller, image);
  return c.json({ success: true as const, data: { id: image.id, deleted: true as const } }, 200);
};
