/**
 * The one way an image is written, for uploads and generations alike: the object first, then its
 * row, and never one without the other.
 */
import type { Database } from "../db/client";
import type { ObjectStore } from "../storage";
import { type Defer, putOrRemoveLater, removeObjectOfFailedRow } from "../storage/abandoned-write";
import { type ImageRecord, settleUnansweredImageRow } from "./images";

export interface ImageToStore extends ImageRecord {
  body: Uint8Array;
  /** Stored with the object: its hash, and where it came from (generation id, filename). */
  metadata: Record<string, string>;
}

/**
 * Puts the object, then writes its row with `writeRow` (an upload inserts the row; a generation
 * inserts it and marks itself succeeded in the same statement). A put that timed out is removed
 * in the background (it may still land). A refused row takes its object with it at once; a row
 * that got no answer may still commit, so its object goes only once the row is settled as never
 * written (storage/abandoned-write.ts).
 */
export async function storeImage<T>(
  deps: { db: Database; store: ObjectStore; defer: Defer },
  image: ImageToStore,
  writeRow: () => Promise<T>,
): Promise<T> {
  const { body, metadata, ...record } = image;
  await putOrRemoveLater(deps.store, deps.defer, record.storageKey, body, { contentType: record.mimeType, metadata });
  try {
    return await writeRow();
  } catch (error) {
    await removeObjectOfFailedRow(deps.store, deps.defer, record.storageKey, error, () =>
      settleUnansweredImageRow(deps.db, record),
    );
    throw error;
  }
}
