import { and, desc, eq, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { Database, SessionDatabase } from "../db/client";
import { olderThan, toPage } from "../db/keyset";
import { type ApiKey, apiKeys, auditEvents, organizations, projects } from "../db/schema";
import { type ApiKeyType, generateApiKey } from "../domain/api-key";
import { microsToUsd, usdToMicros } from "../domain/budget";
import { DEFAULT_HOURLY_LIMIT } from "../domain/limits";
import { DEFAULT_ORGANIZATION_SLUG, isUuid, nameFromSlug } from "../domain/slug";
import type { ClientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { auditRow } from "./audit";

/** Project keys expire so that they get rotated; master keys only when asked. */
export const DEFAULT_PROJECT_KEY_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export type KeyStatus = "active" | "expired" | "revoked";

export interface KeyView {
  id: string;
  type: ApiKeyType;
  name: string;
  prefix: string;
  organization: { id: string; slug: string } | null;
  project: { id: string; slug: string } | null;
  rateLimitPerHour: number;
  /** Monthly spending cap in USD, or null; project keys only. */
  monthlyBudgetUsd: number | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  status: KeyStatus;
}

export interface CreatedKey extends KeyView {
  /** The plaintext key: returned once, never stored. */
  apiKey: string;
}

function statusOf(key: Pick<ApiKey, "revokedAt" | "expiresAt">, now = new Date()): KeyStatus {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt <= now) return "expired";
  return "active";
}

function toView(
  key: ApiKey,
  organization: { id: string; slug: string } | null,
  project: { id: string; slug: string } | null,
): KeyView {
  return {
    id: key.id,
    type: key.type,
    name: key.name,
    prefix: key.displayPrefix,
    organization,
    project,
    rateLimitPerHour: key.hourlyLimit,
    monthlyBudgetUsd: key.monthlyBudgetUsdMicros === null ? null : microsToUsd(key.monthlyBudgetUsdMicros),
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
    revokedReason: key.revokedReason,
    status: statusOf(key),
  };
}

/**
 * Creates the first master key, only while none exists. Safe under any number of concurrent
 * calls: the insert checks for a master key and the single-bootstrap-key index refuses a
 * second one should two checks pass at once. Key and audit event are one statement.
 */
/** True once any master key exists: the bootstrap endpoint then answers 403. */
export async function isBootstrapped(db: Database): Promise<boolean> {
  const result = await db.execute<{ done: boolean }>(sql`select exists (select 1 from api_keys where type = 'master') as done`);
  return result.rows[0]?.done === true;
}

export async function bootstrapMasterKey(db: Database, client: ClientInfo): Promise<CreatedKey> {
  const key = await generateApiKey("master");
  const inserted = await db.execute<ApiKey & Record<string, unknown>>(sql`
    with created as (
      insert into api_keys (type, name, display_prefix, key_hash, hourly_limit)
      select 'master', 'Initial master key', ${key.displayPrefix}, ${key.hash}, ${DEFAULT_HOURLY_LIMIT}
      where not exists (select 1 from api_keys where type = 'master')
      on conflict do nothing
      returning *
    ),
    audited as (
      insert into audit_events (action, actor_key_id, target_type, target_id, ip, user_agent)
      select 'bootstrap', id, 'api_key', id::text, ${client.ip}, ${client.userAgent} from created
    )
    select id, name, display_prefix as "displayPrefix", hourly_limit as "hourlyLimit", created_at as "createdAt" from created
  `);
  const row = inserted.rows[0] as
    | { id: string; name: string; displayPrefix: string; hourlyLimit: number; createdAt: string }
    | undefined;
  if (!row) {
    throw new AppError("BOOTSTRAP_COMPLETED", "A master key already exists; create further keys with POST /api/admin/keys");
  }
  return {
    apiKey: key.plaintext,
    id: row.id,
    type: "master",
    name: row.name,
    prefix: row.displayPrefix,
    organization: null,
    project: null,
    rateLimitPerHour: row.hourlyLimit,
    monthlyBudgetUsd: null,
    createdAt: new Date(row.createdAt),
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    revokedReason: null,
    status: "active",
  };
}

export interface CreateKeyInput {
  type: ApiKeyType;
  name: string;
  expiresInDays?: number | null;
  rateLimitPerHour?: number;
  monthlyBudgetUsd?: number | null;
  organizationId?: string;
  organizationSlug?: string;
  projectId?: string;
  projectSlug?: string;
}

type Transaction = Parameters<Parameters<SessionDatabase["transaction"]>[0]>[0];

interface ScopeReferences {
  organizationId?: string;
  organizationSlug?: string;
  projectId?: string;
  projectSlug?: string;
}

/**
 * `organizationId` and `projectId` hold the identifier as the user wrote it: a UUID names the
 * row by id, anything else is its slug and behaves as `organizationSlug` / `projectSlug`.
 */
function slugsAsSlugs<T extends ScopeReferences>(references: T): T {
  const resolved = { ...references };
  if (resolved.organizationId && !isUuid(resolved.organizationId)) {
    resolved.organizationSlug = resolved.organizationId;
    resolved.organizationId = undefined;
  }
  if (resolved.projectId && !isUuid(resolved.projectId)) {
    resolved.projectSlug = resolved.projectId;
    resolved.projectId = undefined;
  }
  return resolved;
}

/** Keys with their organization and project: the shape every key view is built from. */
function selectKeysWithScope(db: Database | SessionDatabase | Transaction) {
  return db
    .select({
      key: apiKeys,
      organization: { id: organizations.id, slug: organizations.slug },
      project: { id: projects.id, slug: projects.slug },
    })
    .from(apiKeys)
    .leftJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .leftJoin(projects, eq(projects.id, apiKeys.projectId));
}

/** Neither revoked nor expired. */
const isActive = () => and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), sql`${apiKeys.expiresAt} > now()`)) as SQL;

/** Finds the organization and project a project key is for, creating them on first use (by slug). */
async function resolveProject(tx: Transaction, references: ScopeReferences) {
  const input = slugsAsSlugs(references);
  let organization: { id: string; slug: string } | undefined;
  if (input.organizationId) {
    [organization] = await tx
      .select({ id: organizations.id, slug: organizations.slug })
      .from(organizations)
      .where(eq(organizations.id, input.organizationId));
    if (!organization) throw new AppError("ORGANIZATION_NOT_FOUND", `No organization has id ${input.organizationId}`);
  }

  if (input.projectId) {
    const [found] = await tx
      .select({ id: projects.id, slug: projects.slug, organizationId: organizations.id, organizationSlug: organizations.slug })
      .from(projects)
      .innerJoin(organizations, eq(organizations.id, projects.organizationId))
      .where(eq(projects.id, input.projectId));
    if (!found) throw new AppError("PROJECT_NOT_FOUND", `No project has id ${input.projectId}`);
    const named = organization?.id ?? input.organizationSlug;
    if (named && named !== found.organizationId && named !== found.organizationSlug) {
      throw new AppError("PROJECT_NOT_FOUND", `Project ${input.projectId} does not belong to organization ${named}`);
    }
    return {
      organization: { id: found.organizationId, slug: found.organizationSlug },
      project: { id: found.id, slug: found.slug },
    };
  }

  const projectSlug = input.projectSlug as string;
  if (!organization) {
    const slug = input.organizationSlug ?? DEFAULT_ORGANIZATION_SLUG;
    // Upsert that always returns the row, also when it already existed.
    [organization] = await tx
      .insert(organizations)
      .values({ slug, name: nameFromSlug(slug) })
      .onConflictDoUpdate({ target: organizations.slug, set: { slug } })
      .returning({ id: organizations.id, slug: organizations.slug });
  }
  const org = organization as { id: string; slug: string };
  const [project] = await tx
    .insert(projects)
    .values({ organizationId: org.id, slug: projectSlug, name: nameFromSlug(projectSlug) })
    .onConflictDoUpdate({ target: [projects.organizationId, projects.slug], set: { slug: projectSlug } })
    .returning({ id: projects.id, slug: projects.slug });
  return { organization: org, project: project as { id: string; slug: string } };
}

/** Creates a key (and, for a project key named by slug, its organization and project) with its audit event. */
export async function createApiKey(
  db: SessionDatabase,
  input: CreateKeyInput,
  actorKeyId: string,
  client: ClientInfo,
): Promise<CreatedKey> {
  const generated = await generateApiKey(input.type);
  const days =
    input.expiresInDays === undefined ? (input.type === "project" ? DEFAULT_PROJECT_KEY_DAYS : null) : input.expiresInDays;
  const expiresAt = days === null ? null : new Date(Date.now() + days * DAY_MS);

  return db.transaction(async (tx) => {
    const scope = input.type === "project" ? await resolveProject(tx, input) : { organization: null, project: null };
    const [key] = await tx
      .insert(apiKeys)
      .values({
        type: input.type,
        name: input.name,
        displayPrefix: generated.displayPrefix,
        keyHash: generated.hash,
        hourlyLimit: input.rateLimitPerHour ?? DEFAULT_HOURLY_LIMIT,
        monthlyBudgetUsdMicros: input.monthlyBudgetUsd == null ? null : usdToMicros(input.monthlyBudgetUsd),
        expiresAt,
        organizationId: scope.organization?.id ?? null,
        projectId: scope.project?.id ?? null,
        createdBy: actorKeyId,
      })
      .returning();
    const created = key as ApiKey;
    await tx.insert(auditEvents).values(
      auditRow({
        action: "key.created",
        actorKeyId,
        target: { type: "api_key", id: created.id },
        organizationId: scope.organization?.id,
        projectId: scope.project?.id,
        client,
        metadata: {
          type: created.type,
          name: created.name,
          prefix: created.displayPrefix,
          expiresAt: expiresAt?.toISOString() ?? null,
          monthlyBudgetUsd: input.monthlyBudgetUsd ?? null,
        },
      }),
    );
    return { ...toView(created, scope.organization, scope.project), apiKey: generated.plaintext };
  });
}

export interface ListKeysQuery {
  projectId?: string;
  projectSlug?: string;
  organizationId?: string;
  organizationSlug?: string;
  type?: ApiKeyType;
  status?: KeyStatus;
  limit: number;
  cursor?: string;
}

/** Keys newest first by keyset; never the hash. */
export async function listApiKeys(db: Database, filters: ListKeysQuery): Promise<{ keys: KeyView[]; nextCursor: string | null }> {
  const query = slugsAsSlugs(filters);
  const conditions: SQL[] = [];
  if (query.projectId) conditions.push(eq(apiKeys.projectId, query.projectId));
  if (query.organizationId) conditions.push(eq(apiKeys.organizationId, query.organizationId));
  if (query.projectSlug) conditions.push(eq(projects.slug, query.projectSlug));
  if (query.organizationSlug) conditions.push(eq(organizations.slug, query.organizationSlug));
  if (query.type) conditions.push(eq(apiKeys.type, query.type));
  if (query.status === "revoked") conditions.push(isNotNull(apiKeys.revokedAt));
  if (query.status === "expired") conditions.push(and(isNull(apiKeys.revokedAt), lte(apiKeys.expiresAt, sql`now()`)) as SQL);
  if (query.status === "active") conditions.push(isActive());
  if (query.cursor) conditions.push(olderThan(apiKeys, query.cursor));
  const rows = await selectKeysWithScope(db)
    .where(and(...conditions))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(query.limit + 1);
  const { page, nextCursor } = toPage(rows, query.limit, (row) => row.key.id);
  return { keys: page.map((row) => toView(row.key, row.organization, row.project)), nextCursor };
}

/**
 * Revokes a key (soft: the row stays for the audit trail); it fails from its very next request,
 * since every request reads the key afresh. Master key revocations are serialized by an advisory
 * lock so that two concurrent calls cannot revoke the last two active master keys.
 */
export async function revokeApiKey(
  db: SessionDatabase,
  keyId: string,
  reason: string | null,
  actorKeyId: string,
  client: ClientInfo,
): Promise<KeyView> {
  return db.transaction(async (tx) => {
    const [found] = await selectKeysWithScope(tx)
      .where(eq(apiKeys.id, keyId))
      // Not FOR UPDATE: audit rows reference keys, and their foreign-key checks take KEY SHARE
      // locks, which FOR UPDATE would block (two masters revoking each other would deadlock).
      .for("no key update", { of: apiKeys });
    if (!found) throw new AppError("API_KEY_NOT_FOUND", `No API key has id ${keyId}`);
    const { key: target, organization, project } = found;
    if (target.revokedAt) return toView(target, organization, project);

    if (target.type === "master") {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('banatie.master-keys'))`);
      const [others] = await tx
        .select({ count: sql<number>`count(*)::int` })
        .from(apiKeys)
        .where(and(eq(apiKeys.type, "master"), isActive(), sql`${apiKeys.id} <> ${keyId}`));
      if (!others?.count) {
        throw new AppError("LAST_MASTER_KEY", "This is the last active master key; create another master key before revoking it");
      }
    }

    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()`, revokedReason: reason })
      .where(eq(apiKeys.id, keyId))
      .returning();
    await tx.insert(auditEvents).values(
      auditRow({
        action: "key.revoked",
        actorKeyId,
        target: { type: "api_key", id: keyId },
        organizationId: target.organizationId,
        projectId: target.projectId,
        client,
        metadata: { type: target.type, prefix: target.displayPrefix, reason },
      }),
    );
    return toView(revoked as ApiKey, organization, project);
  });
}

/**
 * Sets or removes (null) a project key's monthly budget, and records who did. Master keys
 * generate nothing, so they take no budget.
 */
export async function setKeyBudget(
  db: Database,
  keyId: string,
  monthlyBudgetUsd: number | null,
  actorKeyId: string,
  client: ClientInfo,
): Promise<KeyView> {
  const micros = monthlyBudgetUsd === null ? null : usdToMicros(monthlyBudgetUsd);
  const [updated] = await db
    .update(apiKeys)
    .set({ monthlyBudgetUsdMicros: micros })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.type, "project")))
    .returning();
  if (!updated) {
    const [found] = await db.select({ type: apiKeys.type }).from(apiKeys).where(eq(apiKeys.id, keyId));
    if (!found) throw new AppError("API_KEY_NOT_FOUND", `No API key has id ${keyId}`);
    throw new AppError("VALIDATION_ERROR", "monthlyBudgetUsd: master keys generate nothing, so they take no budget", {
      errors: [{ field: "monthlyBudgetUsd", message: "master keys take no budget; set it on project keys or projects" }],
    });
  }
  await db.insert(auditEvents).values(
    auditRow({
      action: "key.budget_updated",
      actorKeyId,
      target: { type: "api_key", id: keyId },
      organizationId: updated.organizationId,
      projectId: updated.projectId,
      client,
      metadata: { prefix: updated.displayPrefix, monthlyBudgetUsd },
    }),
  );
  const [row] = await selectKeysWithScope(db).where(eq(apiKeys.id, keyId));
  return toView(updated, row?.organization ?? null, row?.project ?? null);
}
