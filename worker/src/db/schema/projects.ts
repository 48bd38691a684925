import { boolean, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";
import { organizations } from "./organizations";

export const projects = pgTable(
  "projects",
  {
    id: id(),
    organizationId: uuid()
      .notNull()
      .references(() => organizations.id, { onDelete: "restrict" }),
    slug: text().notNull(),
    name: text().notNull(),
    /** Private projects' images are served only through temporary (signed) URLs. */
    private: boolean().notNull().default(false),
    createdAt: createdAt(),
  },
  (table) => [unique("projects_organization_slug_unique").on(table.organizationId, table.slug)],
);

export type Project = typeof projects.$inferSelect;
