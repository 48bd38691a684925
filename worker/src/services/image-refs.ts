/**
 * The image an `img/` URL names now: `{org}/{project}/img/{imageId}` or `.../img/@alias` (a
 * project alias). Unlike a storage key, what it names can change (an alias moves, a regeneration
 * replaces the object), so it is looked up on every request, in one statement.
 */
import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { imageAliases, images, organizations, projects } from "../db/schema";
import type { ServableImage } from "./images";

/** An image by id or by project alias, within the project these slugs name. */
export interface ImageRef {
  organization: string;
  project: string;
  target: { id: string } | { alias: string };
}

/** The image a ref names: what serving needs, its storage key and its focal point. */
export interface ReferencedImage extends ServableImage {
  storageKey: string;
  focalPoint: { x: number; y: number } | null;
}

/** The live image the ref names, with its project's privacy and settings; null when none. */
export async function findImageByRef(db: Database, ref: ImageRef): Promise<ReferencedImage | null> {
  const byTarget: SQL | undefined =
    "id" in ref.target
      ? eq(images.id, ref.target.id)
      : and(eq(imageAliases.alias, ref.target.alias), isNull(imageAliases.flowId), eq(imageAliases.projectId, projects.id));
  const base = db
    .select({
      id: images.id,
      storageKey: images.storageKey,
      width: images.width,
      height: images.height,
      filename: images.originalFilename,
      focalX: images.focalX,
      focalY: images.focalY,
      private: projects.private,
      imageSettings: projects.imageSettings,
    })
    .from(images)
    .innerJoin(projects, eq(projects.id, images.projectId))
    .innerJoin(organizations, eq(organizations.id, projects.organizationId));
  const query = "alias" in ref.target ? base.innerJoin(imageAliases, eq(imageAliases.imageId, images.id)) : base;
  const [row] = await query.where(
    and(eq(organizations.slug, ref.organization), eq(projects.slug, ref.project), isNull(images.deletedAt), byTarget),
  );
  if (!row) return null;
  const { focalX, focalY, ...image } = row;
  return { ...image, focalPoint: focalX === null || focalY === null ? null : { x: focalX, y: focalY } };
}
