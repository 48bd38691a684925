import { boolean, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { images } from "./images";

/**
 * Every distinct transformation (canonical option string) an image has been asked for. Bounds
 * the variants per image and tells the delete path which cache entries to purge.
 */
export const imageVariants = pgTable(
  "image_variants",
  {
    imageId: uuid()
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    variantKey: text().notNull(),
    /** Arbitrary work (signed sizes, crops, qualities) counts against the per-image bound; presets do not. */
    counted: boolean().notNull().default(true),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.imageId, table.variantKey] })],
);
