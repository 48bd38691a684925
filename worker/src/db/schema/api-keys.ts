import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { DEFAULT_HOURLY_LIMIT } from "../../domain/limits";
import { createdAt, id, timestampTz } from "./columns";
import { organizations } from "./organizations";
import { projects } from "./projects";

export const apiKeyType = pgEnum("api_key_type", ["master", "project"]);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    type: apiKeyType().notNull(),
    organizationId: uuid().references(() => organizations.id, { onDelete: "restrict" }),
    projectId: uuid().references(() => projects.id, { onDelete: "restrict" }),
    name: text().notNull(),
    /** The first characters of the key, shown in listings so people can tell keys apart. */
    displayPrefix: text().notNull(),
    /** SHA-256 of the full key, hex; the plaintext is never stored. */
    keyHash: text().notNull().unique("api_keys_key_hash_unique"),
    hourlyLimit: integer().notNull().default(DEFAULT_HOURLY_LIMIT),
    /** Monthly spending cap in USD micros; null for none (services/budgets.ts). */
    monthlyBudgetUsdMicros: bigint({ mode: "number" }),
    expiresAt: timestampTz(),
    lastUsedAt: timestampTz(),
    revokedAt: timestampTz(),
    revokedReason: text(),
    createdBy: uuid(),
    createdAt: createdAt(),
  },
  (table) => [
    index("api_keys_project_idx").on(table.projectId, table.createdAt),
    index("api_keys_type_active_idx").on(table.type).where(sql`${table.revokedAt} is null`),
    // The bootstrap key is the only master key nobody created; this makes a second one impossible
    // even when many bootstrap calls race.
    uniqueIndex("api_keys_single_bootstrap_key")
      .on(table.type)
      .where(sql`${table.type} = 'master' and ${table.createdBy} is null`),
    check(
      "api_keys_project_scope",
      sql`(${table.type} = 'master' and ${table.projectId} is null) or (${table.type} = 'project' and ${table.projectId} is not null and ${table.organizationId} is not null)`,
    ),
    check("api_keys_hourly_limit_positive", sql`${table.hourlyLimit} > 0`),
    check("api_keys_monthly_budget_positive", sql`${table.monthlyBudgetUsdMicros} > 0`),
  ],
);

export type ApiKey = typeof apiKeys.$inferSelect;
