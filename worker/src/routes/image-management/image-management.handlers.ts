import type { z } from "@hono/zod-openapi";
import { signedImagePath } from "../../delivery/image-path";
import { imageUrl } from "../../delivery/image-urls";
import { signPath } from "../../delivery/signed-url";
import { formatOfFile } from "../../domain/catalog";
import { planTransform } from "../../images/transform/geometry";
import { chooseFormat } from "../../images/transform/negotiate";
import { canonicalOptions, hasTransformOptions, invalidOption, parseTransformOptions } from "../../images/transform/options";
import { expandPreset } from "../../images/transform/presets";
import { AppError } from "../../lib/errors";
import { pagination } from "../../lib/openapi";
import { authorizeProject } from "../../middleware/access";
import { findProjectImage, findProjectImagePolicy, listImages } from "../../services/images";
import type { AppRouteHandler } from "../create-app";
import { deleteProjectImage } from "../shared/delete-image";
import type {
  deleteRoute,
  ListQuery,
  listGeneratedRoute,
  listUploadsRoute,
  temporaryUrlRoute,
  transformUrlRoute,
} from "./image-management.routes";

const MIME_BY_FORMAT = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

export const listGenerated: AppRouteHandler<typeof listGeneratedRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const query = c.req.valid("query");
  return c.json(await listPage(c, caller.project.id, ["generated"], query), 200);
};

export const listUploads: AppRouteHandler<typeof listUploadsRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const query = c.req.valid("query");
  return c.json(await listPage(c, caller.project.id, query.category ? [query.category] : ["uploads", "references"], query), 200);
};

export const createTemporaryUrl: AppRouteHandler<typeof temporaryUrlRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const secret = c.var.config.urlSigningSecret;
  if (!secret) throw new AppError("CONFIGURATION_ERROR", "Temporary URLs need URL_SIGNING_SECRET to be set");
  const image = await findProjectImage(c.var.services.db, caller.project.id, c.req.valid("param").id);
  if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
  const { expiresIn } = c.req.header("content-type")?.includes("json") ? c.req.valid("json") : { expiresIn: 3600 };
  const expires = Math.floor(Date.now() / 1000) + expiresIn;
  const sig = await signPath(secret, signedImagePath(image.storageKey), expires);
  return c.json(
    {
      success: true as const,
      data: {
        url: `${imageUrl(c, image.storageKey)}?expires=${expires}&sig=${sig}`,
        expiresAt: new Date(expires * 1000).toISOString(),
      },
    },
    201,
  );
};

export const createTransformUrl: AppRouteHandler<typeof transformUrlRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const secret = c.var.config.urlSigningSecret;
  if (!secret) throw new AppError("CONFIGURATION_ERROR", "Signed URLs need URL_SIGNING_SECRET to be set");
  const body = c.req.valid("json");
  const options = parseTransformOptions(new URLSearchParams(body.options));
  if (!hasTransformOptions(options)) {
    invalidOption("options", "name at least one transformation option");
  }
  const { db } = c.var.services;
  const image = await findProjectImage(db, caller.project.id, c.req.valid("param").id);
  if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
  // Refuse now what serving would refuse: an unknown preset, a crop outside the image, a too large output.
  const project = await findProjectImagePolicy(db, caller.project.id);
  // An `auto` format is settled by each request's Accept, so only a named or kept format is checked here.
  const format = options.format === "auto" ? undefined : chooseFormat(options.format, formatOfFile(image.storageKey), undefined);
  planTransform(image.width, image.height, expandPreset(options, project.presets), format);
  // Images of private projects are served only through URLs that expire.
  const expiresIn = body.expiresIn ?? (project.private ? 3600 : undefined);
  const expires = expiresIn === undefined ? null : Math.floor(Date.now() / 1000) + expiresIn;
  const canonical = canonicalOptions(options);
  const sig = await signPath(secret, signedImagePath(image.storageKey), expires, canonical);
  const query = `${canonical}${expires === null ? "" : `&expires=${expires}`}&sig=${sig}`;
  return c.json(
    {
      success: true as const,
      data: {
        url: `${imageUrl(c, image.storageKey)}?${query}`,
        options: canonical,
        expiresAt: expires === null ? null : new Date(expires * 1000).toISOString(),
      },
    },
    201,
  );
};

export const deleteImage: AppRouteHandler<typeof deleteRoute> = async (c) => {
  const caller = await authorizeProject(c);
  const image = await findProjectImage(c.var.services.db, caller.project.id, c.req.valid("param").id);
  if (!image) throw new AppError("NOT_FOUND", "No such image in this project");
  await deleteProjectImage(c, caller, image);
  return c.json({ success: true as const, data: { id: image.id, deleted: true as const } }, 200);
};

type ListRow = Awaited<ReturnType<typeof listImages>>["rows"][number];

async function listPage(
  c: Parameters<typeof imageUrl>[0],
  projectId: string,
  categories: ("generated" | "uploads" | "references")[],
  query: z.infer<typeof ListQuery>,
) {
  const { rows, nextCursor } = await listImages(c.var.services.db, projectId, {
    categories,
    limit: query.limit,
    cursor: query.cursor,
    createdAfter: query.createdAfter ? new Date(query.createdAfter) : undefined,
    createdBefore: query.createdBefore ? new Date(query.createdBefore) : undefined,
    mimeType: query.format ? MIME_BY_FORMAT[query.format] : undefined,
    aspectRatio: query.aspectRatio,
    search: query.q,
  });
  return {
    success: true as const,
    data: rows.map((row: ListRow) => ({
      id: row.image.id,
      url: imageUrl(c, row.image.storageKey),
      category: row.image.category,
      mimeType: row.image.mimeType,
      bytes: row.image.bytes,
      width: row.image.width,
      height: row.image.height,
      aspectRatio: row.image.aspectRatio,
      sha256: row.image.sha256,
      filename: row.image.originalFilename,
      createdAt: row.image.createdAt.toISOString(),
      prompt: row.prompt,
      enhancedPrompt: row.enhancedPrompt,
      template: row.template,
      model: row.model,
      alias: row.alias,
      flowId: row.image.flowId,
    })),
    pagination: pagination(query.limit, nextCursor),
  };
}
