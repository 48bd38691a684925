/** Objects of Banatie's v1 API (`/api/v1`), shared by its routes, and their serializers. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { imageUrl, imageUrlBase } from "../../delivery/image-urls";
import { MAX_META_BYTES } from "../../domain/limits";
import type { ProjectCaller } from "../../lib/access-types";
import type { HonoEnv } from "../../middleware/env";
import type { FlowSummary } from "../../services/flows";
import type { V1ImageRow } from "../../services/v1-images";
import { ImageUrlSchema } from "./image-url-schemas";

const utf8 = new TextEncoder();

/** The client's own JSON object on an image, generation or flow, at most MAX_META_BYTES as UTF-8 JSON. */
export const MetaSchema = z
  .record(z.string(), z.unknown())
  .refine((meta) => utf8.encode(JSON.stringify(meta)).byteLength <= MAX_META_BYTES, {
    message: `meta must be at most ${MAX_META_BYTES} bytes as JSON`,
  })
  .openapi({ description: `Any JSON object, at most ${MAX_META_BYTES} bytes as UTF-8 JSON`, example: { campaign: "spring" } });

export const FlowSchema = z
  .object({
    id: z.string().uuid(),
    aliases: z.record(z.string(), z.string().uuid()).openapi({
      description: "The flow's aliases: alias → image id",
      example: { "@hero": "9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d" },
    }),
    generationCount: z.number().int().openapi({ description: "Live generations of the flow" }),
    imageCount: z.number().int().openapi({ description: "Live images of the flow" }),
    meta: MetaSchema,
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("Flow");

export function toV1Flow(flow: FlowSummary): z.infer<typeof FlowSchema> {
  return { ...flow, createdAt: flow.createdAt.toISOString(), updatedAt: flow.updatedAt.toISOString() };
}

/** Where the subject of an image is, each in 0-1 from the left and the top. */
export const FocalPointSchema = z
  .object({
    x: z.number().min(0).max(1).openapi({ description: "0 is the left edge, 1 the right" }),
    y: z.number().min(0).max(1).openapi({ description: "0 is the top edge, 1 the bottom" }),
  })
  .strict()
  .openapi("FocalPoint", { description: "The default gravity of cover crops of this image", example: { x: 0.5, y: 0.3 } });

export const V1ImageSchema = z
  .object({
    id: z.string().uuid(),
    projectId: z.string().uuid(),
    flowId: z.string().uuid().nullable(),
    generationId: z.string().uuid().nullable(),
    source: z.enum(["generated", "uploaded"]).openapi({ description: "uploaded covers both uploads and references" }),
    alias: z.string().nullable().openapi({ description: "The image's project alias", example: "@brand-logo" }),
    flowAliases: z.array(z.string()).openapi({ description: "Flow aliases naming the image" }),
    focalPoint: FocalPointSchema.nullable(),
    meta: MetaSchema,
    storageKey: z.string().openapi({ description: "The object's key in storage" }),
    storageUrl: z.string().url().openapi({
      description:
        "The image's stable URL, {organization}/{project}/img/{id} on the image host: it follows the image, not the object",
    }),
    url: ImageUrlSchema,
    mimeType: z.string(),
    fileSize: z.number().int().openapi({ description: "Bytes" }),
    width: z.number().int(),
    height: z.number().int(),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
    deletedAt: z.string().datetime().optional().openapi({ description: "Only on deleted images, listed with includeDeleted" }),
  })
  .openapi("V1Image");

/** The stable URL of an image (`{org}/{project}/img/{id}`), which regeneration in place keeps. */
export function v1StorageUrl(c: Context<HonoEnv>, organizationSlug: string, projectSlug: string, imageId: string): string {
  return `${imageUrlBase(c)}${organizationSlug}/${projectSlug}/img/${imageId}`;
}

/** The caller's organization and project slugs, which an image's URLs are made of. */
export const slugsOf = (caller: ProjectCaller) => ({ organization: caller.organization.slug, project: caller.project.slug });

export function toV1Image(
  c: Context<HonoEnv>,
  slugs: { organization: string; project: string },
  image: V1ImageRow,
): z.infer<typeof V1ImageSchema> {
  return {
    id: image.id,
    projectId: image.projectId,
    flowId: image.flowId,
    generationId: image.generationId,
    source: image.category === "generated" ? "generated" : "uploaded",
    alias: image.alias,
    flowAliases: image.flowAliases,
    focalPoint: image.focalX === null || image.focalY === null ? null : { x: image.focalX, y: image.focalY },
    meta: image.meta,
    storageKey: image.storageKey,
    storageUrl: v1StorageUrl(c, slugs.organization, slugs.project, image.id),
    url: imageUrl(c, image.storageKey),
    mimeType: image.mimeType,
    fileSize: image.bytes,
    width: image.width,
    height: image.height,
    createdAt: image.createdAt.toISOString(),
    updatedAt: image.updatedAt.toISOString(),
    ...(image.deletedAt ? { deletedAt: image.deletedAt.toISOString() } : {}),
  };
}
