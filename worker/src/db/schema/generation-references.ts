import { sql } from "drizzle-orm";
import { check, index, pgTable, primaryKey, smallint, text, uuid } from "drizzle-orm/pg-core";
import { generations } from "./generations";
import { images } from "./images";

/** How a reference was found: by id, a technical, flow or project alias, an alias in the prompt, or an uploaded file. */
export const REFERENCE_RESOLUTIONS = ["id", "technical", "flow", "project", "prompt", "file"] as const;
export type ReferenceResolution = (typeof REFERENCE_RESOLUTIONS)[number];

/**
 * The images a generation sent to the model, in order. Kept when an image is deleted (images are
 * only ever soft-deleted), so a generation's record stays readable.
 */
export const generationReferences = pgTable(
  "generation_references",
  {
    generationId: uuid()
      .notNull()
      .references(() => generations.id, { onDelete: "restrict" }),
    /** 1-based, in the order the model received the images. */
    position: smallint().notNull(),
    imageId: uuid()
      .notNull()
      .references(() => images.id, { onDelete: "restrict" }),
    /** As the client wrote it: the image id, `@alias`, or `files[0]`. */
    spec: text().notNull(),
    /** The alias it resolved through, if any. */
    alias: text(),
    resolvedVia: text().$type<ReferenceResolution>().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.generationId, table.position] }),
    check("generation_references_position", sql`${table.position} between 1 and 3`),
    check(
      "generation_references_resolved_via",
      sql`${table.resolvedVia} in ('id', 'technical', 'flow', 'project', 'prompt', 'file')`,
    ),
    index("generation_references_image_idx").on(table.imageId),
  ],
);

export type GenerationReference = typeof generationReferences.$inferSelect;
