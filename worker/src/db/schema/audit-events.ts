import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import type { AuditAction } from "../../domain/audit";
import { apiKeys } from "./api-keys";
import { createdAt, id } from "./columns";

/** Who did what to which resource. `metadata` never holds secrets (no keys, no hashes). */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: id(),
    actorKeyId: uuid().references(() => apiKeys.id, { onDelete: "set null" }),
    action: text().$type<AuditAction>().notNull(),
    targetType: text(),
    targetId: text(),
    organizationId: uuid(),
    projectId: uuid(),
    ip: text(),
    userAgent: text(),
    metadata: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (table) => [
    index("audit_events_created_idx").on(table.createdAt.desc().nullsFirst(), table.id.desc().nullsFirst()),
    index("audit_events_actor_created_idx").on(table.actorKeyId, table.createdAt.desc().nullsFirst()),
    index("audit_events_project_created_idx").on(table.projectId, table.createdAt.desc().nullsFirst()),
    index("audit_events_target_created_idx").on(table.targetId, table.createdAt.desc().nullsFirst()),
  ],
);

export type AuditEvent = typeof auditEvents.$inferSelect;
