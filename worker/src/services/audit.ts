import { and, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { olderThan, toPage } from "../db/keyset";
import { auditEvents } from "../db/schema";
import type { AuditAction } from "../domain/audit";
import type { ClientInfo } from "../lib/client-address";

/** Where a request came from, as recorded with each event. */
export interface AuditEventInput {
  action: AuditAction;
  actorKeyId?: string | null;
  target?: { type: "api_key" | "image" | "generation" | "project" | "organization" | "flow"; id: string };
  organizationId?: string | null;
  projectId?: string | null;
  client: ClientInfo;
  /** Never a key, a hash or any other secret. */
  metadata?: Record<string, string | number | boolean | null>;
}

/** The audit row for an event; callers insert it themselves when it must join a transaction. */
export function auditRow(event: AuditEventInput): typeof auditEvents.$inferInsert {
  return {
    action: event.action,
    actorKeyId: event.actorKeyId ?? null,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    organizationId: event.organizationId ?? null,
    projectId: event.projectId ?? null,
    ip: event.client.ip,
    userAgent: event.client.userAgent,
    metadata: event.metadata ?? {},
  };
}

export async function recordAudit(db: Database, event: AuditEventInput): Promise<void> {
  await db.insert(auditEvents).values(auditRow(event));
}

export interface AuditQuery {
  action?: AuditAction;
  /** Events by this key or about it. */
  keyId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Id of the last event of the previous page. */
  cursor?: string;
}

/** Newest first, by keyset: stable while new events arrive, and index-backed at any depth. */
export async function listAudit(db: Database, query: AuditQuery) {
  const conditions: SQL[] = [];
  if (query.action) conditions.push(eq(auditEvents.action, query.action));
  if (query.keyId) {
    const about = and(eq(auditEvents.targetType, "api_key"), eq(auditEvents.targetId, query.keyId));
    conditions.push(or(eq(auditEvents.actorKeyId, query.keyId), about) as SQL);
  }
  if (query.from) conditions.push(gte(auditEvents.createdAt, query.from));
  if (query.to) conditions.push(lt(auditEvents.createdAt, query.to));
  if (query.cursor) conditions.push(olderThan(auditEvents, query.cursor));
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(query.limit + 1);
  const { page, nextCursor } = toPage(rows, query.limit, (row) => row.id);
  return { events: page, nextCursor };
}
