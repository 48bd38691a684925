import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";

export const organizations = pgTable("organizations", {
  id: id(),
  slug: text().notNull().unique("organizations_slug_unique"),
  name: text().notNull(),
  createdAt: createdAt(),
});

export type Organization = typeof organizations.$inferSelect;
