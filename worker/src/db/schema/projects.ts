import { sql } from "drizzle-orm";
import { bigint, boolean, check, jsonb, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { DEFAULT_IMAGE_SETTINGS, type ProjectImageSettings } from "../../domain/image-settings";
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
    /** Transformation settings: the project's presets and watermark. */
    imageSettings: jsonb().$type<ProjectImageSettings>().notNull().default(DEFAULT_IMAGE_SETTINGS),
    /** Monthly spending cap in USD micros; null for none (services/budgets.ts). */
    monthlyBudgetUsdMicros: bigint({ mode: "number" }),
    createdAt: createdAt(),
  },
  (table) => [
    unique("projects_organization_slug_unique").on(table.organizationId, table.slug),
    check("projects_monthly_budget_positive", sql`${table.monthlyBudgetUsdMicros} > 0`),
  ],
);

export type Project = typeof projects.$inferSelect;
