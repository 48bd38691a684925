import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { inArray, sql } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { loadConfig } from "../src/config";
import type { Database } from "../src/db/client";
import { auditEvents, generations, images, usageEvents } from "../src/db/schema";
import { PRUNED_ROWS_PER_RUN, STUCK_GENERATIONS_PER_RUN } from "../src/domain/limits";
import worker from "../src/index";
import { sweepOrphanObjects } from "../src/services/maintenance/orphan-objects";
import { pruneAuditEvents } from "../src/services/maintenance/pruning";
import { failStuckGenerations } from "../src/services/maintenance/stuck-generations";
import { createObjectStore } from "../src/storage";
import { deadUrl, testEnv } from "./support/app";
import { createProject, insertKey, type TestKey, type TestProject, withDb } from "./support/fixtures";

/**
 * The cron-triggered maintenance, run as the runtime runs it: the Worker's `scheduled` handler
 * with a scheduled controller, against the real PostgreSQL and S3 server that other test files
 * share. Every assertion is scoped to the rows and objects this file created. The orphan sweep
 * over the whole bucket is safe next to other tests: it only removes objects older than its
 * 24-hour grace period, and every object of this run is younger.
 */
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let scope: TestProject;
let key: TestKey;
let logged: string[];
let errors: string[];
let spies: MockInstance[];

const store = createObjectStore(loadConfig(testEnv).storage);

beforeAll(async () => {
  ({ scope, key } = await withDb(async (db) => {
    const project = await createProject(db);
    return { scope: project, key: await insertKey(db, { type: "project", scope: project }) };
  }));
});

beforeEach(() => {
  logged = [];
  errors = [];
  spies = [
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))),
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(" "))),
  ];
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

interface JobLine {
  message: "maintenance";
  job: string;
  durationMs: number;
  [count: string]: unknown;
}

/** Runs the Worker's scheduled handler once and returns the job lines it logged. */
async function runScheduled(overrides: Record<string, unknown> = {}): Promise<JobLine[]> {
  const before = logged.length;
  const controller = createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, { ...testEnv, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return logged
    .slice(before)
    .map((line) => JSON.parse(line) as JobLine)
    .filter((line) => line.message === "maintenance");
}

function jobLine(lines: JobLine[], job: string): JobLine {
  const matching = lines.filter((line) => line.job === job);
  expect(matching, job).toHaveLength(1);
  return matching[0] as JobLine;
}

async function insertGeneration(db: Database, startedAgoMs: number, at?: Date): Promise<string> {
  const [row] = await db
    .insert(generations)
    .values({
      projectId: scope.project.id,
      apiKeyId: key.id,
      originalPrompt: "a lighthouse at dusk",
      aspectRatio: "1:1",
      outputFormat: "png",
      createdAt: at ?? new Date(Date.now() - startedAgoMs),
    })
    .returning({ id: generations.id });
  return (row as { id: string }).id;
}

async function statusOf(ids: string[]) {
  return withDb((db) =>
    db
      .select({
        id: generations.id,
        status: generations.status,
        errorCode: generations.errorCode,
        completedAt: generations.completedAt,
      })
      .from(generations)
      .where(inArray(generations.id, ids)),
  );
}

async function insertAudit(db: Database, at: Date): Promise<string> {
  const [row] = await db
    .insert(auditEvents)
    .values({ action: "key.created", projectId: scope.project.id, createdAt: at })
    .returning({ id: auditEvents.id });
  return (row as { id: string }).id;
}

async function remainingAudit(ids: string[]): Promise<string[]> {
  const rows = await withDb((db) => db.select({ id: auditEvents.id }).from(auditEvents).where(inArray(auditEvents.id, ids)));
  return rows.map((row) => row.id);
}

async function windowStarts(): Promise<string[]> {
  const result = await withDb((db) =>
    db.execute<{ start: string }>(
      sql`select to_char(window_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24') as start from rate_limit_windows where api_key_id = ${key.id} order by window_start`,
    ),
  );
  return result.rows.map((row) => row.start);
}

/** Keys of this file's objects under `prefix` that are still stored. */
async function storedUnder(prefix: string): Promise<string[]> {
  return (await store.list({ prefix })).objects.map((object) => object.key);
}

interface SweepScope {
  prefix: string;
  /** Stores an object under the prefix and returns its key. */
  put(name: string, category?: string): Promise<string>;
  /** Gives an object an image row, as a stored image has (or a deleted image's row). */
  reference(storageKey: string, options?: { deleted?: boolean }): Promise<void>;
}

/** A project of its own for one sweep, so its prefix holds only that test's objects. */
async function sweepScope(): Promise<SweepScope> {
  const own = await withDb((db) => createProject(db));
  const prefix = `${own.organization.slug}/${own.project.slug}/`;
  return {
    prefix,
    async put(name, category = "uploads") {
      const objectKey = `${prefix}${category}/${name}`;
      await store.put(objectKey, name, { contentType: "image/png" });
      return objectKey;
    },
    async reference(storageKey, options = {}) {
      await withDb(async (db) => {
        await db.insert(images).values({
          ...(options.deleted ? { deletedAt: new Date() } : {}),
          projectId: own.project.id,
          category: "uploads",
          storageKey,
          mimeType: "image/png",
          bytes: 1,
          width: 1,
          height: 1,
          sha256: "0".repeat(64),
        });
      });
    },
  };
}

/** The Idempotency-Keys whose records a key still has. */
async function webhookDeliveriesOf(projectId: string): Promise<string[]> {
  const rows = await withDb((db) =>
    db.execute<{ event_type: string }>(
      sql`select event_type from webhook_deliveries where project_id = ${projectId} order by event_type`,
    ),
  );
  return rows.rows.map((row) => row.event_type);
}

async function idempotencyKeysOf(apiKeyId: string): Promise<string[]> {
  const rows = await withDb((db) =>
    db.execute<{ key: string }>(sql`select key from idempotency_keys where api_key_id = ${apiKeyId} order by key`),
  );
  return rows.rows.map((row) => row.key);
}

describe("scheduled maintenance", () => {
  it("runs every job once, each reporting what it did in one log line, and a second run changes nothing more", async () => {
    const { stuck, fresh, oldAudit, recentAudit } = await withDb(async (db) => {
      await db.execute(sql`
        insert into rate_limit_windows (api_key_id, window_start, count)
        values (${key.id}, date_trunc('hour', now()) - interval '3 hours', 7), (${key.id}, date_trunc('hour', now()), 2)
      `);
      await db.execute(sql`
        insert into idempotency_keys (api_key_id, key, fingerprint, status, locked_until, expires_at)
        values (${key.id}, 'expired', 'f', 'done', now() - interval '25 hours', now() - interval '1 hour'),
               (${key.id}, 'live', 'f', 'done', now(), now() + interval '23 hours')
      `);
      // Past the 30 days deliveries are kept, and within them; named by their event to tell them apart.
      await db.execute(sql`
        insert into webhook_deliveries (project_id, message_id, event_type, url, payload, state, created_at)
        values (${scope.project.id}, ${`msg_${crypto.randomUUID()}`}, 'old', 'https://example.com/h', '{}', 'succeeded', now() - interval '31 days'),
               (${scope.project.id}, ${`msg_${crypto.randomUUID()}`}, 'recent', 'https://example.com/h', '{}', 'failed', now() - interval '29 days')
      `);
      return {
        stuck: await insertGeneration(db, 2 * HOUR),
        fresh: await insertGeneration(db, MINUTE),
        oldAudit: await insertAudit(db, new Date(Date.now() - 400 * DAY)),
        recentAudit: await insertAudit(db, new Date(Date.now() - 300 * DAY)),
      };
    });
    const currentWindow = (await windowStarts()).at(-1);

    const lines = await runScheduled();
    expect(lines.map((line) => line.job)).toEqual([
      "fail-stuck-generations",
      "release-stale-budget-reservations",
      "sweep-orphan-objects",
      "prune-quota-windows",
      "prune-audit-events",
      "prune-idempotency-keys",
      "prune-webhook-deliveries",
      "export-usage-to-stripe",
    ]);
    for (const line of lines) expect(line.durationMs).toBeGreaterThanOrEqual(0);
    expect(jobLine(lines, "fail-stuck-generations").failed).toBeGreaterThanOrEqual(1);
    expect(jobLine(lines, "release-stale-budget-reservations")).toMatchObject({ released: expect.any(Number) });
    expect(jobLine(lines, "sweep-orphan-objects")).toMatchObject({ scanned: expect.any(Number), deleted: expect.any(Number) });
    expect(jobLine(lines, "prune-quota-windows").deleted).toBeGreaterThanOrEqual(1);
    expect(jobLine(lines, "prune-audit-events").deleted).toBeGreaterThanOrEqual(1);
    expect(jobLine(lines, "prune-idempotency-keys").deleted).toBeGreaterThanOrEqual(1);
    expect(jobLine(lines, "prune-webhook-deliveries").deleted).toBeGreaterThanOrEqual(1);
    // Off in tests unless a test sets STRIPE_SECRET_KEY and STRIPE_METER_EVENT_NAME (billing-export.test.ts).
    expect(jobLine(lines, "export-usage-to-stripe")).toMatchObject({ skipped: 1 });
    expect(errors).toEqual([]);

    const byId = new Map((await statusOf([stuck, fresh])).map((row) => [row.id, row]));
    expect(byId.get(stuck)).toMatchObject({ status: "failed", errorCode: "GENERATION_ABANDONED", completedAt: expect.any(Date) });
    expect(byId.get(fresh)).toMatchObject({ status: "pending", errorCode: null, completedAt: null });
    expect(await windowStarts()).toEqual([currentWindow]);
    expect(await remainingAudit([oldAudit, recentAudit])).toEqual([recentAudit]);
    expect(await idempotencyKeysOf(key.id)).toEqual(["live"]);
    expect(await webhookDeliveriesOf(scope.project.id)).toEqual(["recent"]);

    const again = await runScheduled();
    expect(jobLine(again, "fail-stuck-generations").failed).toBe(0);
    expect(jobLine(again, "prune-quota-windows").deleted).toBe(0);
    expect(jobLine(again, "prune-audit-events").deleted).toBe(0);
    expect(jobLine(again, "prune-idempotency-keys").deleted).toBe(0);
    expect(jobLine(again, "prune-webhook-deliveries").deleted).toBe(0);
    expect((await statusOf([stuck, fresh])).map((row) => row.status).sort()).toEqual(["failed", "pending"]);
    expect(await windowStarts()).toEqual([currentWindow]);
    expect(await remainingAudit([oldAudit, recentAudit])).toEqual([recentAudit]);
  });

  it("keeps the audit trail for AUDIT_RETENTION_DAYS", async () => {
    const [tenDaysOld, twoDaysOld] = await withDb(async (db) => [
      await insertAudit(db, new Date(Date.now() - 10 * DAY)),
      await insertAudit(db, new Date(Date.now() - 2 * DAY)),
    ]);
    const lines = await runScheduled({ AUDIT_RETENTION_DAYS: "5" });
    expect(jobLine(lines, "prune-audit-events").deleted).toBeGreaterThanOrEqual(1);
    expect(await remainingAudit([tenDaysOld, twoDaysOld])).toEqual([twoDaysOld]);
  });

  it("never touches usage events, however old, even those of a generation it fails as abandoned", async () => {
    const eventId = await withDb(async (db) => {
      const abandoned = await insertGeneration(db, 2 * HOUR);
      const [row] = await db
        .insert(usageEvents)
        .values({
          organizationId: scope.organization.id,
          projectId: scope.project.id,
          apiKeyId: key.id,
          generationId: abandoned,
          kind: "generation",
          provider: "gemini",
          model: "gemini-2.5-flash-image",
          outputImageTokens: 1290,
          costUsdMicros: 38_700,
          priceVersion: "2025-10-01",
          billable: true,
          createdAt: new Date(Date.now() - 4000 * DAY),
        })
        .returning({ id: usageEvents.id });
      return (row as { id: string }).id;
    });
    const event = () =>
      withDb((db) =>
        db
          .select()
          .from(usageEvents)
          .where(inArray(usageEvents.id, [eventId])),
      );
    const before = await event();

    await runScheduled({ AUDIT_RETENTION_DAYS: "1" });
    expect(errors).toEqual([]);
    expect(await event()).toEqual(before);
  });

  it("never removes a young or referenced object, however unreferenced it looks", async () => {
    const { prefix, put, reference } = await sweepScope();
    const referenced = await put("kept.png");
    await reference(referenced);
    const young = await put("young-orphan.png");

    await runScheduled();
    expect(await storedUnder(prefix)).toEqual([referenced, young].sort());
  });

  it("goes on with the other jobs when one fails, logging the failure", async () => {
    const stuck = await withDb((db) => insertGeneration(db, 3 * HOUR));
    const lines = await runScheduled({ S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) });
    expect(lines.map((line) => line.job)).toEqual([
      "fail-stuck-generations",
      "release-stale-budget-reservations",
      "prune-quota-windows",
      "prune-audit-events",
      "prune-idempotency-keys",
      "prune-webhook-deliveries",
      "export-usage-to-stripe",
    ]);
    const failures = errors.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(failures).toEqual([
      expect.objectContaining({
        level: "error",
        message: "maintenance job failed",
        job: "sweep-orphan-objects",
        code: "STORAGE_UNAVAILABLE",
      }),
    ]);
    expect((await statusOf([stuck]))[0]?.status).toBe("failed");
  });
});

describe("maintenance jobs, bounded per run", () => {
  it("stops each database job at its named per-run limit, and the next run does the rest", async () => {
    // The oldest rows of their tables, one more than a run may touch, so a run reaches them first.
    const base = new Date(Date.UTC(2000, 0, 1) + Math.floor(Math.random() * DAY)).toISOString();
    await withDb(async (db) => {
      await db.execute(sql`
        insert into generations (project_id, api_key_id, original_prompt, aspect_ratio, output_format, created_at)
        select ${scope.project.id}, ${key.id}, 'bound', '1:1', 'png', ${base}::timestamptz + n * interval '1 second'
        from generate_series(1, ${STUCK_GENERATIONS_PER_RUN + 1}) as n
      `);
      await db.execute(sql`
        insert into audit_events (action, project_id, created_at)
        select 'key.created', ${scope.project.id}, ${base}::timestamptz + n * interval '1 second'
        from generate_series(1, ${PRUNED_ROWS_PER_RUN + 1}) as n
      `);
      await db.execute(sql`
        insert into rate_limit_windows (api_key_id, window_start, count)
        select ${key.id}, ${base}::timestamptz + n * interval '1 hour', 1
        from generate_series(1, ${PRUNED_ROWS_PER_RUN + 1}) as n
      `);
    });
    const left = async () =>
      withDb(async (db) => {
        const result = await db.execute<{ generations: number; audit: number; windows: number }>(sql`
          select
            (select count(*)::int from generations where project_id = ${scope.project.id} and original_prompt = 'bound' and status = 'pending') as generations,
            (select count(*)::int from audit_events where project_id = ${scope.project.id} and created_at < '2001-01-01') as audit,
            (select count(*)::int from rate_limit_windows where api_key_id = ${key.id} and window_start < '2003-01-01') as windows
        `);
        return result.rows[0];
      });

    const first = await runScheduled();
    expect(jobLine(first, "fail-stuck-generations").failed).toBe(STUCK_GENERATIONS_PER_RUN);
    expect(jobLine(first, "prune-audit-events").deleted).toBe(PRUNED_ROWS_PER_RUN);
    expect(jobLine(first, "prune-quota-windows").deleted).toBe(PRUNED_ROWS_PER_RUN);
    expect(await left()).toEqual({ generations: 1, audit: 1, windows: 1 });

    await runScheduled();
    expect(await left()).toEqual({ generations: 0, audit: 0, windows: 0 });
  });

  it("marks at most the limit of stuck generations, oldest first, and the next run does the rest", async () => {
    // The oldest rows of the table, so the job reaches them before anyone else's.
    const base = Date.UTC(2000, 0, 1) + Math.floor(Math.random() * DAY);
    const ids = await withDb(async (db) => [
      await insertGeneration(db, 0, new Date(base)),
      await insertGeneration(db, 0, new Date(base + 1000)),
      await insertGeneration(db, 0, new Date(base + 2000)),
    ]);
    const run = () => withDb((db) => failStuckGenerations(db, { startedBefore: new Date(base + 3000), limit: 2 }));
    expect(await run()).toEqual({ failed: 2 });
    const statuses = async () => new Map((await statusOf(ids)).map((row) => [row.id, row.status]));
    expect([...(await statuses()).entries()].sort()).toEqual(
      [
        [ids[0], "failed"],
        [ids[1], "failed"],
        [ids[2], "pending"],
      ].sort(),
    );
    expect(await run()).toEqual({ failed: 1 });
    expect(await run()).toEqual({ failed: 0 });
  });

  it("deletes at most the limit of expired audit events, and the next run does the rest", async () => {
    const base = Date.UTC(2000, 0, 1) + Math.floor(Math.random() * DAY);
    const ids = await withDb(async (db) => [
      await insertAudit(db, new Date(base)),
      await insertAudit(db, new Date(base + 1000)),
      await insertAudit(db, new Date(base + 2000)),
    ]);
    const run = () => withDb((db) => pruneAuditEvents(db, { recordedBefore: new Date(base + 3000), limit: 2 }));
    expect(await run()).toEqual({ deleted: 2 });
    expect(await remainingAudit(ids)).toEqual([ids[2]]);
    expect(await run()).toEqual({ deleted: 1 });
    expect(await run()).toEqual({ deleted: 0 });
  });

  it("removes unreferenced objects past the grace period, at most the limit per run, and keeps the rest", async () => {
    const { prefix, put, reference } = await sweepScope();
    const referenced = await put("kept.png");
    await reference(referenced);
    // Not a key the platform writes: the sweep leaves other data in the bucket alone.
    const foreign = await put("readme.txt", "notes");
    const orphans = await Promise.all(["a", "b", "c", "d", "e"].map((name) => put(`orphan-${name}.png`)));
    // Every object here is seconds old; a sweep an hour in the future finds them past a one-hour grace.
    const sweep = (deleteLimit: number) =>
      withDb((db) =>
        sweepOrphanObjects({ db, store }, { prefix, writtenBefore: new Date(Date.now() + HOUR), scanLimit: 1000, deleteLimit }),
      );

    expect(await sweep(2)).toMatchObject({ deleted: 2 });
    expect(await storedUnder(prefix)).toEqual([foreign, referenced, ...orphans.slice(2)].sort());
    expect(await sweep(10)).toEqual({ scanned: 5, deleted: 3 });
    expect(await storedUnder(prefix)).toEqual([foreign, referenced].sort());
    expect(await sweep(10)).toEqual({ scanned: 2, deleted: 0 });

    // With the real grace period, the same kind of object is too young to go.
    const young = await put("young.png");
    expect(
      await withDb((db) =>
        sweepOrphanObjects(
          { db, store },
          { prefix, writtenBefore: new Date(Date.now() - DAY), scanLimit: 1000, deleteLimit: 10 },
        ),
      ),
    ).toEqual({ scanned: 3, deleted: 0 });
    expect(await storedUnder(prefix)).toContain(young);
  });

  it("removes an object whose only row is a deleted image's, since deleting an image removes its object", async () => {
    const { prefix, put, reference } = await sweepScope();
    const live = await put("live.png");
    await reference(live);
    // A delete whose object removal failed, or a write settled as never made (a tombstone row).
    const underDeletedRow = await put("deleted.png");
    await reference(underDeletedRow, { deleted: true });
    const sweep = (writtenBefore: Date) =>
      withDb((db) => sweepOrphanObjects({ db, store }, { prefix, writtenBefore, scanLimit: 1000, deleteLimit: 10 }));

    expect(await sweep(new Date(Date.now() - DAY))).toEqual({ scanned: 2, deleted: 0 });
    expect(await sweep(new Date(Date.now() + HOUR))).toEqual({ scanned: 2, deleted: 1 });
    expect(await storedUnder(prefix)).toEqual([live]);
  });

  it("leaves alone objects the platform never writes, even under an image category's path", async () => {
    const { prefix, put } = await sweepScope();
    // Other data sharing the bucket: a name no image has (not png, jpg or webp; capitals; dots).
    const foreign = await Promise.all(["notes.txt", "Photo.PNG", "backup.tar.gz"].map((name) => put(name)));
    const orphan = await put("orphan.png");

    expect(
      await withDb((db) =>
        sweepOrphanObjects(
          { db, store },
          { prefix, writtenBefore: new Date(Date.now() + HOUR), scanLimit: 1000, deleteLimit: 10 },
        ),
      ),
    ).toEqual({ scanned: 4, deleted: 1 });
    expect(await storedUnder(prefix)).toEqual([...foreign].sort());
    expect(await storedUnder(prefix)).not.toContain(orphan);
  });

  it("lists at most the scan limit, and from a start point wraps around to sweep the whole prefix", async () => {
    const { prefix, put } = await sweepScope();
    const orphans = await Promise.all(["a", "b", "c", "d"].map((name) => put(`orphan-${name}.png`)));
    const sweep = (options: { scanLimit: number; startAfter?: string }) =>
      withDb((db) =>
        sweepOrphanObjects({ db, store }, { prefix, writtenBefore: new Date(Date.now() + HOUR), deleteLimit: 100, ...options }),
      );

    expect(await sweep({ scanLimit: 1, startAfter: orphans[2] })).toEqual({ scanned: 1, deleted: 1 });
    expect(await storedUnder(prefix)).toEqual([orphans[0], orphans[1], orphans[2]]);
    // From after `b`: `c`, then around to `a` and `b`, and no further.
    expect(await sweep({ scanLimit: 100, startAfter: orphans[1] })).toEqual({ scanned: 3, deleted: 3 });
    expect(await storedUnder(prefix)).toEqual([]);
  });
});
