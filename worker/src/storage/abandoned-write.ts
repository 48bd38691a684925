import { isConnectionFailure } from "../db/errors";
import { ABANDONED_WRITE_BUDGET_MS, ABANDONED_WRITE_RECHECK_MS } from "../domain/limits";
import { AppError } from "../lib/errors";
import { logFailure } from "../lib/log";
import { type ObjectBody, type ObjectStore, type PutOptions, StorageTimeoutError } from "./object-store";

/**
 * A storage key as logs may show it: a generated name can begin with the user's filename, which
 * is theirs, not ours to log; the server's own id after it still tells the objects apart.
 */
export function loggableKey(key: string): string {
  return key.replace(/\/[^/]*-([0-9a-f]{16}\.[a-z]+)$/, "/…-$1");
}

/**
 * Writes the platform gave up on without knowing whether they happened. A stored object and
 * the image row that references it are written one after the other; when either write gets no
 * answer in time, the request fails, yet the server may still carry the write out later. The
 * repair runs in the background (`defer`, i.e. waitUntil) once the dependency answers again,
 * and always errs towards keeping what users can see: an object no row references is invisible
 * and harmless, while a row whose object is gone is a broken image.
 *
 * Background work gets about 30 s after the response before the runtime stops it unseen, so
 * each repair ends within ABANDONED_WRITE_BUDGET_MS and says in the log when it gave up.
 */

export type Defer = (task: () => Promise<unknown>) => void;

/**
 * Stores an object for a row written next. If storage does not answer in time, the write may
 * still land after the caller has failed the request, leaving an object no row references: its
 * key is then deleted in the background once storage answers again.
 */
export async function putOrRemoveLater(
  store: ObjectStore,
  defer: Defer,
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
 * delete (the abandoned write) may be carried out after it. Tries again while the budget lasts.
 */
export async function removeAbandonedWrite(store: ObjectStore, key: string): Promise<void> {
  const deadline = Date.now() + ABANDONED_WRITE_BUDGET_MS;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      await beforeDeadline(deadline, () => store.delete(key));
      await pauseBefore(deadline, ABANDONED_WRITE_RECHECK_MS);
      if (!(await beforeDeadline(deadline, () => store.head(key)))) return;
    } catch {
      // Storage is still unavailable: wait, then try again.
      await pauseBefore(deadline, ABANDONED_WRITE_RECHECK_MS * attempt);
    }
  }
  throw new AppError("STORAGE_UNAVAILABLE", `Abandoned object ${loggableKey(key)} could not be deleted in time`);
}

/**
 * Removes the object stored for an image row whose write failed with `error`. A refusal (a
 * constraint, a bad value) means the row does not exist: the object goes at once. A write that
 * got no answer may still commit when the database wakes, even after the database answers other
 * connections again: after a pause, `settleRow` makes the outcome final in the database and says
 * whether the row exists; the object is deleted only if it does not. If the database still
 * cannot answer, the object is kept and logged.
 */
export async function removeObjectOfFailedRow(
  store: ObjectStore,
  defer: Defer,
  key: string,
  error: unknown,
  settleRow: () => Promise<boolean>,
): Promise<void> {
  if (!isConnectionFailure(error)) {
    await store
      .delete(key)
      .catch((cause: unknown) => logFailure("object of a refused row not deleted", cause, { key: loggableKey(key) }));
    return;
  }
  defer(async () => {
    const deadline = Date.now() + ABANDONED_WRITE_BUDGET_MS;
    await pauseBefore(deadline, ABANDONED_WRITE_RECHECK_MS);
    let recorded: boolean;
    try {
      recorded = await beforeDeadline(deadline, settleRow);
    } catch (cause) {
      logFailure("object kept: its row's write has an unknown outcome", cause, { key: loggableKey(key) });
      return;
    }
    if (recorded) return;
    await beforeDeadline(deadline, () => store.delete(key)).catch((cause: unknown) =>
      logFailure("object of an unwritten row not deleted", cause, { key: loggableKey(key) }),
    );
  });
}

/** Runs `run`, failing once `deadline` passes: the call may go on, but nothing waits for it. */
async function beforeDeadline<T>(deadline: number, run: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("Background repair ran out of time")), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([run(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function pauseBefore(deadline: number, ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - Date.now()))));
}
