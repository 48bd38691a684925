import { sql } from "drizzle-orm";
import { check, doublePrecision, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { IMAGE_CATEGORIES } from "../../domain/catalog";
import { createdAt, id, timestampTz } from "./columns";
import { generations } from "./generations";
import { projects } from "./projects";

export const imageCategory = pgEnum("image_category", IMAGE_CATEGORIES);

export const images = pgTable(
  "images",
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    category: imageCategory().notNull(),
    /** `{org}/{project}/{category}/{name}`, built by the server only. */
    storageKey: text().notNull().unique("images_storage_key_unique"),
    mimeType: text().notNull(),
    bytes: integer().notNull(),
    width: integer().notNull(),
    height: integer().notNull(),
    sha256: text().notNull(),
    originalFilename: text(),
    /** The generation that produced the image; null for uploads. The one link between the two tables. */
    generationId: uuid().references(() => generations.id, { onDelete: "set null" }),
    /** The ratio asked for (generated) or the nearest supported one (uploads), for filtering. */
    aspectRatio: text(),
    /** Filename and prompts in one lower-case text, trigram-indexed for search. */
    searchText: text().notNull().default(""),
    /** The flow the image belongs to (flows are lazy, so no foreign key: see flows.ts); null outside any flow. */
    flowId: uuid(),
    /** Where the subject is, each in 0-1 from the left and top; both null or both set. */
    focalX: doublePrecision(),
    focalY: doublePrecision(),
    /** The client's own JSON object (the API limits it to MAX_META_BYTES; the check is a backstop). */
    meta: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    /** Changed by metadata edits and by regeneration in place. */
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestampTz(),
  },
  (table) => [
    // Listing reads one project's live images of one category newest first, by keyset cursor.
    index("images_project_category_created_idx")
      .on(table.projectId, table.category, table.createdAt.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.deletedAt} is null`),
    // Substring search over prompts and filenames (pg_trgm), keyed by project first (btree_gin) so
    // a search costs what the project holds: a global trigram index matched every tenant's rows.
    index("images_project_search_text_trgm_idx").using("gin", table.projectId, sql`${table.searchText} gin_trgm_ops`),
    // A flow's live images by kind, newest first: its images, and the technical aliases @last, @first, @upload.
    index("images_project_flow_created_idx")
      .on(table.projectId, table.flowId, table.category, table.createdAt.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.deletedAt} is null and ${table.flowId} is not null`),
    check(
      "images_focal_point",
      sql`(${table.focalX} is null) = (${table.focalY} is null) and (${table.focalX} is null or (${table.focalX} between 0 and 1 and ${table.focalY} between 0 and 1))`,
    ),
    check("images_meta_size", sql`octet_length(${table.meta}::text) <= 8192`),
  ],
);

export type Image = typeof images.$inferSelect;
