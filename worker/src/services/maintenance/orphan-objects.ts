import { and, gt, inArray, isNull, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { images } from "../../db/schema";
import { parseImageKey } from "../../images/storage-key";
import type { ObjectStore } from "../../storage";
import { type ListedObject, MAX_LIST_LIMIT } from "../../storage/object-store";

export interface OrphanSweep {
  /** Only objects written before this may be removed (now minus the grace period). */
  writtenBefore: Date;
  /** Objects listed at most. */
  scanLimit: number;
  /** Objects deleted at most. */
  deleteLimit: number;
  /** Where the listing starts; it wraps around to the beginning and stops where it started. */
  startAfter?: string;
  /** Sweep only under this prefix. */
  prefix?: string;
}

export type OrphanSweepResult = { scanned: number; deleted: number };

/** Deleting a few at a time keeps within the Workers limit of six open connections. */
const DELETE_CONCURRENCY = 6;

/**
 * Where a sweep starts: the key of a random image. A sweep is bounded, and a bucket may hold
 * more than one run lists; starting each run at a random stored image, rather than at a cursor
 * kept in a table, spreads the runs over the whole bucket (in proportion to where images are)
 * with no state to keep. Null when there are no images: then the sweep starts at the beginning.
 */
export async function randomSweepStart(db: Database): Promise<string | undefined> {
  const [row] = await db
    .select({ key: images.storageKey })
    .from(images)
    .where(gt(images.id, sql`gen_random_uuid()`))
    .orderBy(images.id)
    .limit(1);
  return row?.key;
}

/**
 * Removes stored images no live row references: objects whose rows failed to commit and whose
 * removal failed too (a timeout, an outage). A deleted image's row does not keep its object:
 * deleting an image removes the object first, so an object under a deleted row is one that
 * removal missed, or one whose write was settled as never made (a tombstone row from
 * `settleUnansweredImageRow`, which may itself land after the request gave up on it). Only keys
 * of the shape the platform writes are considered, so other data sharing the bucket is never
 * touched, and only objects older than the grace period, since an object is written before its
 * rows commit. Bounded by `scanLimit` and `deleteLimit`; a rerun finds nothing more to do among
 * what it already swept.
 */
export async function sweepOrphanObjects(
  deps: { db: Database; store: ObjectStore },
  sweep: OrphanSweep,
): Promise<OrphanSweepResult> {
  const result: OrphanSweepResult = { scanned: 0, deleted: 0 };
  const done = () => result.scanned >= sweep.scanLimit || result.deleted >= sweep.deleteLimit;
  // From the start point to the end, then from the beginning back to the start point.
  const passes: { startAfter?: string; stopAfter?: string }[] = sweep.startAfter
    ? [{ startAfter: sweep.startAfter }, { stopAfter: sweep.startAfter }]
    : [{}];
  for (const pass of passes) {
    let cursor: string | undefined;
    do {
      const limit = Math.min(MAX_LIST_LIMIT, sweep.scanLimit - result.scanned);
      const page = await deps.store.list({
        prefix: sweep.prefix,
        limit,
        ...(cursor ? { cursor } : { startAfter: pass.startAfter }),
      });
      const { stopAfter } = pass;
      const objects = stopAfter ? page.objects.filter((object) => object.key <= stopAfter) : page.objects;
      result.scanned += objects.length;
      // The image grammar every server-made key follows (the one serving reads), not merely its shape.
      const candidates = objects.filter((object) => object.uploaded < sweep.writtenBefore && parseImageKey(object.key) !== null);
      result.deleted += await deleteUnreferenced(deps, candidates, sweep.deleteLimit - result.deleted);
      cursor = objects.length < page.objects.length ? undefined : page.cursor;
    } while (cursor && !done());
    if (done()) break;
  }
  return result;
}

/** Deletes those of `objects` that no live image row references, at most `budget` of them. */
async function deleteUnreferenced(
  deps: { db: Database; store: ObjectStore },
  objects: ListedObject[],
  budget: number,
): Promise<number> {
  if (objects.length === 0 || budget <= 0) return 0;
  const keys = objects.map((object) => object.key);
  const referenced = await deps.db
    .select({ key: images.storageKey })
    .from(images)
    .where(and(inArray(images.storageKey, keys), isNull(images.deletedAt)));
  const kept = new Set(referenced.map((row) => row.key));
  const orphans = keys.filter((key) => !kept.has(key)).slice(0, budget);
  for (let i = 0; i < orphans.length; i += DELETE_CONCURRENCY) {
    await Promise.all(orphans.slice(i, i + DELETE_CONCURRENCY).map((key) => deps.store.delete(key)));
  }
  return orphans.length;
}
