import { and, desc, eq, gte, inArray, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { olderThan, toPage } from "../db/keyset";
import { generations, type Image, images, organizations, projects } from "../db/schema";
import type { ImageCategory } from "../domain/catalog";
import type { ProjectImageSettings } from "../domain/image-settings";
import { aliasWriteStatements } from "./aliases";

/** What serving needs to know about a stored object before sending it. */
export interface ServableImage {
  id: string;
  width: number;
  height: number;
  private: boolean;
  filename: string | null;
  imageSettings: ProjectImageSettings;
}

/**
 * The live image at a storage path, with its project's privacy; null when the path names no
 * image, or a deleted one. One indexed lookup (the storage key is unique).
 */
export async function findServableImage(db: Database, storageKey: string): Promise<ServableImage | null> {
  const [row] = await db
    .select({
      id: images.id,
      width: images.width,
      height: images.height,
      private: projects.private,
      filename: images.originalFilename,
      imageSettings: projects.imageSettings,
    })
    .from(images)
    .innerJoin(projects, eq(projects.id, images.projectId))
    .where(and(eq(images.storageKey, storageKey), isNull(images.deletedAt)));
  return row ?? null;
}

/** The columns an image row cannot be without. */
export type ImageRecord = Pick<
  typeof images.$inferInsert,
  "projectId" | "category" | "storageKey" | "mimeType" | "bytes" | "width" | "height" | "sha256"
>;

/** Inserts a live image row; returns when it was created. */
export async function insertImage(db: Database, row: typeof images.$inferInsert): Promise<Date> {
  const [inserted] = await db.insert(images).values(row).returning({ createdAt: images.createdAt });
  if (!inserted) throw new Error("The image row was not written");
  return inserted.createdAt;
}

/**
 * Settles an image row whose INSERT got no answer, which the database may still carry out: it
 * records the image as deleted unless the row is there. The unique storage key makes the answer
 * final: an INSERT still in flight is waited for (and wins), one that arrives later is refused.
 * Returns whether the image row exists.
 */
export async function settleUnansweredImageRow(db: Database, record: ImageRecord): Promise<boolean> {
  const claimed = await db
    .insert(images)
    .values({ ...record, deletedAt: sql`now()` })
    .onConflictDoNothing({ target: images.storageKey })
    .returning({ id: images.id });
  return claimed.length === 0;
}

/** A live image of this project; another project's image is simply not found. */
export async function findProjectImage(db: Database, projectId: string, imageId: string): Promise<Image | null> {
  const [row] = await db
    .select()
    .from(images)
    .where(and(eq(images.id, imageId), eq(images.projectId, projectId), isNull(images.deletedAt)));
  return row ?? null;
}

/**
 * Marks the image deleted and removes every alias (project and flow) naming it, in one
 * transaction: no alias is left pointing at a deleted image. The generations that used it as a
 * reference keep their record of it. `alongside` runs in the same transaction (the generation
 * deleted with its image).
 */
export async function markImageDeleted(
  db: Database,
  projectId: string,
  imageId: string,
  alongside: readonly BatchItem<"pg">[] = [],
): Promise<void> {
  const mark = db.update(images).set({ deletedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(images.id, imageId));
  await db.batch([mark, ...aliasWriteStatements(db, { projectId, imageId, clear: true }).statements, ...alongside]);
}

/** A project's settings a master key may change; at least one is given. */
export interface ProjectChanges {
  private?: boolean;
  /** Null removes the budget. */
  monthlyBudgetUsdMicros?: number | null;
}

export async function updateProjectSettings(db: Database, projectId: string, changes: ProjectChanges) {
  const [row] = await db.update(projects).set(changes).where(eq(projects.id, projectId)).returning({
    id: projects.id,
    slug: projects.slug,
    private: projects.private,
    monthlyBudgetUsdMicros: projects.monthlyBudgetUsdMicros,
    organizationId: projects.organizationId,
  });
  if (!row) return null;
  const [organization] = await db
    .select({ slug: organizations.slug })
    .from(organizations)
    .where(eq(organizations.id, row.organizationId));
  return { ...row, organizationSlug: organization?.slug ?? "" };
}

/** Storage keys of a project's live images, to purge them from the edge cache. */
export async function projectImageKeys(db: Database, projectId: string): Promise<string[]> {
  const rows = await db
    .select({ key: images.storageKey })
    .from(images)
    .where(and(eq(images.projectId, projectId), isNull(images.deletedAt)));
  return rows.map((row) => row.key);
}

export interface ImageListQuery {
  categories: ImageCategory[];
  limit: number;
  /** Id of the last image of the previous page. */
  cursor?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  mimeType?: string;
  aspectRatio?: string;
  /** Substring of a prompt or filename, any case. */
  search?: string;
}

/**
 * A project's live images newest first. Keyset pagination on (created_at, id) against the
 * partial index, so a page costs the same at any depth and new images never shift later pages;
 * text search goes through the project's trigram index.
 */
export async function listImages(db: Database, projectId: string, query: ImageListQuery) {
  const conditions: SQL[] = [
    eq(images.projectId, projectId),
    inArray(images.category, query.categories),
    isNull(images.deletedAt),
  ];
  if (query.createdAfter) conditions.push(gte(images.createdAt, query.createdAfter));
  if (query.createdBefore) conditions.push(lt(images.createdAt, query.createdBefore));
  if (query.mimeType) conditions.push(eq(images.mimeType, query.mimeType));
  if (query.aspectRatio) conditions.push(eq(images.aspectRatio, query.aspectRatio));
  if (query.search) {
    const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    conditions.push(sql`${images.searchText} like ${pattern}`);
  }
  if (query.cursor) conditions.push(olderThan(images, query.cursor));
  const rows = await db
    .select({
      image: images,
      prompt: generations.originalPrompt,
      enhancedPrompt: generations.finalPrompt,
      template: generations.template,
      model: generations.model,
      provider: generations.provider,
      // Unqualified: inside a sql fragment drizzle may print the column without its table.
      alias: sql<string | null>`(select a.alias from image_aliases a where a.image_id = images.id and a.flow_id is null)`,
    })
    .from(images)
    .leftJoin(generations, eq(generations.id, images.generationId))
    .where(and(...conditions))
    .orderBy(desc(images.createdAt), desc(images.id))
    .limit(query.limit + 1);
  const { page, nextCursor } = toPage(rows, query.limit, (row) => row.image.id);
  return { rows: page, nextCursor };
}

/** What signing a transformation URL needs of the project: its privacy and its presets. */
export async function findProjectImagePolicy(db: Database, projectId: string) {
  const [row] = await db
    .select({ private: projects.private, imageSettings: projects.imageSettings })
    .from(projects)
    .where(eq(projects.id, projectId));
  return { private: row?.private === true, presets: row?.imageSettings.presets ?? {} };
}
