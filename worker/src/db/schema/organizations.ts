import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns";

export const organizations = pgTable("organizations", {
  id: id(),
  slug: text().notNull().unique("organizations_slug_unique"),
  name: text().notNull(),
  createdAt: createdAt(),
  /** The Stripe customer its billable usage is sent for (`cus_...`); without one, none is sent. */
  stripeCustomerId: text(),
});

export type Organization = typeof organizations.$inferSelect;
