/**
 * Images as Banatie's v1 API reads and edits them: each row with the aliases that name it, the
 * offset-paginated list, and metadata edits (focal point, meta, the project alias).
 */
import { and, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Database } from "../db/client";
import { type Image, images } from "../db/schema";
import { type AliasChange, aliasWriteStatements, type ImageOwner, ownerProject, rethrowAliasConflict } from "./aliases";

/** An image row and the aliases naming it: its project alias and any flow aliases. */
export type V1ImageRow = Image & { alias: string | null; flowAliases: string[] };

const withAliases = {
  image: images,
  alias: sql<string | null>`(select a.alias from image_aliases a where a.image_id = images.id and a.flow_id is null)`,
  flowAliases: sql<string[]>`coalesce((select jsonb_agg(a.alias order by a.alias) from image_aliases a
    where a.image_id = images.id and a.flow_id is not null), '[]'::jsonb)`,
};

function toRow(row: { image: Image; alias: string | null; flowAliases: string[] }): V1ImageRow {
  return { ...row.image, alias: row.alias, flowAliases: row.flowAliases };
}

/** A live image of the project with its aliases; another project's image is not found. */
export async function findV1Image(db: Database, projectId: string, imageId: string): Promise<V1ImageRow | null> {
  const [row] = await db
    .select(withAliases)
    .from(images)
    .where(and(eq(images.id, imageId), eq(images.projectId, projectId), isNull(images.deletedAt)));
  return row ? toRow(row) : null;
}

export interface V1ImageListQuery {
  flowId?: string;
  source?: "generated" | "uploaded";
  /** An exact alias: the project's, or the flow's when flowId is given. */
  alias?: string;
  limit: number;
  offset: number;
  includeDeleted: boolean;
}

/**
 * A page of the owner's project's images, newest first, and how many match in all (one
 * statement; owned by a key's project, it runs alongside the key check).
 */
export async function listV1Images(
  db: Database,
  owner: ImageOwner,
  query: V1ImageListQuery,
): Promise<{ rows: V1ImageRow[]; total: number }> {
  const conditions: SQL[] = [
    "projectId" in owner ? eq(images.projectId, owner.projectId) : sql`${images.projectId} = (${ownerProject(owner)})`,
  ];
  if (!query.includeDeleted) conditions.push(isNull(images.deletedAt));
  if (query.flowId) conditions.push(eq(images.flowId, query.flowId));
  if (query.source === "generated") conditions.push(eq(images.category, "generated"));
  if (query.source === "uploaded") conditions.push(inArray(images.category, ["uploads", "references"]));
  if (query.alias) {
    const scope = query.flowId ? sql`a.flow_id = ${query.flowId}` : sql`a.flow_id is null`;
    conditions.push(
      sql`exists (select 1 from image_aliases a where a.image_id = images.id and a.project_id = images.project_id and ${scope} and a.alias = ${query.alias})`,
    );
  }
  const where = and(...conditions);
  const rows = await db
    .select({ ...withAliases, total: sql<number>`count(*) over ()`.mapWith(Number) })
    .from(images)
    .where(where)
    .orderBy(desc(images.createdAt), desc(images.id))
    .limit(query.limit)
    .offset(query.offset);
  const [first] = rows;
  if (first) return { rows: rows.map(toRow), total: first.total };
  // A page past the end has no row to carry the count.
  if (query.offset === 0) return { rows: [], total: 0 };
  const [counted] = await db
    .select({ total: sql<number>`count(*)`.mapWith(Number) })
    .from(images)
    .where(where);
  return { rows: [], total: counted?.total ?? 0 };
}

export interface V1ImageChanges {
  /** Null removes the focal point. */
  focalPoint?: { x: number; y: number } | null;
  /** Replaces the image's meta. */
  meta?: Record<string, unknown>;
}

/** Applies metadata changes to a live image of the project; null when there is no such image. */
export async function updateV1Image(
  db: Database,
  projectId: string,
  imageId: string,
  changes: V1ImageChanges,
): Promise<V1ImageRow | null> {
  const set: PgUpdateSetSource<typeof images> = { updatedAt: sql`now()` };
  if (changes.focalPoint !== undefined) {
    set.focalX = changes.focalPoint?.x ?? null;
    set.focalY = changes.focalPoint?.y ?? null;
  }
  if (changes.meta !== undefined) set.meta = changes.meta;
  const updated = await db
    .update(images)
    .set(set)
    .where(and(eq(images.id, imageId), eq(images.projectId, projectId), isNull(images.deletedAt)))
    .returning({ id: images.id });
  if (updated.length === 0) return null;
  return findV1Image(db, projectId, imageId);
}

/**
 * Gives the image the project alias (moving it from whichever image had it), or removes the
 * image's alias when null, with what changed; null when the project has no such live image.
 */
export async function setProjectAlias(
  db: Database,
  projectId: string,
  imageId: string,
  alias: string | null,
): Promise<{ image: V1ImageRow; changes: AliasChange[] } | null> {
  const writes = aliasWriteStatements(db, { projectId, imageId, alias });
  const touch = db
    .update(images)
    .set({ updatedAt: sql`now()` })
    .where(and(eq(images.id, imageId), eq(images.projectId, projectId), isNull(images.deletedAt)))
    .returning({ id: images.id });
  const [touched, ...results] = await db.batch([touch, ...writes.statements]).catch(rethrowAliasConflict);
  if (touched.length === 0) return null;
  const image = await findV1Image(db, projectId, imageId);
  return image && { image, changes: writes.changes(results) };
}
