import { ABANDONED_WRITE_DELETE_ATTEMPTS, ABANDONED_WRITE_RECHECK_MS } from "../domain/limits";
import { AppError } from "../lib/errors";
import { type ObjectBody, type ObjectStore, type PutOptions, StorageTimeoutError } from "./object-store";

/**
 * Stores an object for a row written next. If storage does not answer in time, the write may
 * still land after the caller has failed the request, leaving an object no row references: its
 * key is then deleted in the background (`defer`, i.e. waitUntil) once storage answers again.
 */
export async function putOrRemoveLater(
  store: ObjectStore,
  defer: (task: () => Promise<unknown>) => void,
  key: string,
  body: ObjectBody,
  options: PutOptions,
): Promise<{ etag: string; size: number }> {
  try {
    return await store.put(key, body, options);
  } catch (error) {
    if (error instanceof StorageTimeoutError) defer(() => removeAbandonedWrite(store, key));
    throw error;
  }
}

/**
 * Deletes `key`, then looks again after a pause: a request the server received before the
 * delete (the abandoned write) may be carried out after it. Gives up after a bounded number of
 * attempts, each within the storage timeout, so background work always ends.
 */
export async function removeAbandonedWrite(store: ObjectStore, key: string): Promise<void> {
  for (let attempt = 1; attempt <= ABANDONED_WRITE_DELETE_ATTEMPTS; attempt++) {
    try {
      await store.delete(key);
      await pause(ABANDONED_WRITE_RECHECK_MS);
      if (!(await store.head(key))) return;
    } catch {
      // Storage is still unavailable: wait, then try again.
      await pause(ABANDONED_WRITE_RECHECK_MS * attempt);
    }
  }
  throw new AppError(
    "STORAGE_UNAVAILABLE",
    `Abandoned object ${key} could not be deleted after ${ABANDONED_WRITE_DELETE_ATTEMPTS} attempts`,
  );
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
