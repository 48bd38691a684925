import { sql } from "drizzle-orm";
import { check, foreignKey, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";
import { flows } from "./flows";
import { images } from "./images";
import { projects } from "./projects";

/**
 * Names for images, `@` and 1-49 of `[A-Za-z0-9_-]` (domain/aliases.ts): a project alias
 * (`flow_id` null) names one image of the project, a flow alias one image within a flow. Partial
 * unique indexes make a duplicate impossible in either scope, and an image holds at most one
 * project alias; writes serialize per project (services/aliases.ts) so a moved alias never
 * collides with a concurrent move.
 */
export const imageAliases = pgTable(
  "image_aliases",
  {
    id: id(),
    projectId: uuid()
      .notNull()
      .references(() => projects.id, { onDelete: "restrict" }),
    /** The flow the alias lives in; null for a project alias. */
    flowId: uuid(),
    alias: text().notNull(),
    imageId: uuid()
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // MATCH SIMPLE: a project alias (flow_id null) is not checked against flows; deleting a flow drops its aliases.
    foreignKey({
      name: "image_aliases_flow_fk",
      columns: [table.projectId, table.flowId],
      foreignColumns: [flows.projectId, flows.id],
    }).onDelete("cascade"),
    check("image_aliases_format", sql`${table.alias} ~ '^@[A-Za-z0-9_-]{1,49}$'`),
    uniqueIndex("image_aliases_project_uq").on(table.projectId, table.alias).where(sql`${table.flowId} is null`),
    uniqueIndex("image_aliases_flow_uq").on(table.projectId, table.flowId, table.alias).where(sql`${table.flowId} is not null`),
    uniqueIndex("image_aliases_one_project_alias").on(table.imageId).where(sql`${table.flowId} is null`),
    // Deleting an image finds the aliases pointing at it.
    index("image_aliases_image_idx").on(table.imageId),
  ],
);

export type ImageAlias = typeof imageAliases.$inferSelect;
