import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "../../src/db/client";
import { apiKeys, images, organizations, projects } from "../../src/db/schema";
import { type ApiKeyType, generateApiKey } from "../../src/domain/api-key";
import { DEFAULT_HOURLY_LIMIT } from "../../src/domain/limits";
import { testEnv } from "./app";

/** Runs `use` with a database client of its own (the main test database by default). */
export async function withDb<T>(use: (db: Database) => Promise<T>, databaseUrl = testEnv.DATABASE_URL): Promise<T> {
  return use(createDatabase({ databaseUrl, databaseHttpEndpoint: testEnv.DATABASE_HTTP_ENDPOINT }));
}

/** A slug no other test uses, so test files can share one database. */
export function uniqueSlug(base: string): string {
  return `${base}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface TestProject {
  organization: { id: string; slug: string };
  project: { id: string; slug: string };
}

export async function createProject(
  db: Database,
  organizationSlug = uniqueSlug("org"),
  projectSlug = uniqueSlug("proj"),
): Promise<TestProject> {
  const [organization] = await db
    .insert(organizations)
    .values({ slug: organizationSlug, name: organizationSlug })
    .onConflictDoUpdate({ target: organizations.slug, set: { slug: organizationSlug } })
    .returning({ id: organizations.id, slug: organizations.slug });
  const org = organization as { id: string; slug: string };
  const [project] = await db
    .insert(projects)
    .values({ organizationId: org.id, slug: projectSlug, name: projectSlug })
    .returning({ id: projects.id, slug: projects.slug });
  return { organization: org, project: project as { id: string; slug: string } };
}

export interface TestKey {
  id: string;
  key: string;
  hash: string;
}

/**
 * Inserts a key directly, as a fixture. `createdBy` is set so that fixtures never count as the
 * bootstrap key, whatever database they land in.
 */
export async function insertKey(
  db: Database,
  options: { type: ApiKeyType; scope?: TestProject; expiresAt?: Date; revokedAt?: Date; hourlyLimit?: number },
): Promise<TestKey> {
  const generated = await generateApiKey(options.type);
  const [row] = await db
    .insert(apiKeys)
    .values({
      type: options.type,
      name: `${options.type} fixture`,
      displayPrefix: generated.displayPrefix,
      keyHash: generated.hash,
      organizationId: options.scope?.organization.id ?? null,
      projectId: options.scope?.project.id ?? null,
      expiresAt: options.expiresAt ?? null,
      revokedAt: options.revokedAt ?? null,
      hourlyLimit: options.hourlyLimit ?? DEFAULT_HOURLY_LIMIT,
      createdBy: crypto.randomUUID(),
    })
    .returning({ id: apiKeys.id });
  return { id: (row as { id: string }).id, key: generated.plaintext, hash: generated.hash };
}

/** Sets how many requests a key has used in the current hour. */
/**
 * Marks `used` requests of a key spent in this hour's window and in the next one, so a test whose
 * requests fall just after the hour turns still finds them spent.
 */
export async function setQuotaUsed(db: Database, keyId: string, used: number): Promise<void> {
  await db.execute(sql`
    insert into rate_limit_windows (api_key_id, window_start, count)
    values (${keyId}, date_trunc('hour', now()), ${used}), (${keyId}, date_trunc('hour', now()) + interval '1 hour', ${used})
    on conflict (api_key_id, window_start) do update set count = excluded.count
  `);
}

/**
 * The requests charged to a key: in the window starting at `windowStart` (as a response reports
 * it), or else in all its windows, which for a test's fresh key does not depend on the hour its
 * requests fell in.
 */
export async function quotaUsed(db: Database, keyId: string, windowStart?: Date): Promise<number> {
  const inWindow = windowStart ? sql`and window_start = ${windowStart.toISOString()}` : sql``;
  const result = await db.execute<{ count: number }>(
    sql`select coalesce(sum(count), 0)::int as count from rate_limit_windows where api_key_id = ${keyId} ${inWindow}`,
  );
  return result.rows[0]?.count ?? 0;
}

/** An image row of a project (no object behind it): enough to test who may address it. */
export async function insertImageRow(
  db: Database,
  scope: TestProject,
  category: "generated" | "uploads" | "references" = "uploads",
  options: { flowId?: string; createdAt?: Date; deletedAt?: Date } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  await db.insert(images).values({
    id,
    projectId: scope.project.id,
    category,
    storageKey: `${scope.organization.slug}/${scope.project.slug}/${category}/${id}.png`,
    mimeType: "image/png",
    bytes: 1,
    width: 1,
    height: 1,
    sha256: "0".repeat(64),
    ...options,
  });
  return id;
}
