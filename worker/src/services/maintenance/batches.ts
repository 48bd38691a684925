import { MAINTENANCE_BATCH_SIZE } from "../../domain/limits";

/**
 * Deletes in batches of at most MAINTENANCE_BATCH_SIZE rows until nothing is left or `limit` rows
 * are gone, so that no single statement locks many rows and no run does unbounded work.
 * `deleteBatch(size)` deletes at most `size` rows and says how many it deleted.
 */
export async function deleteInBatches(limit: number, deleteBatch: (size: number) => Promise<number>): Promise<number> {
  let deleted = 0;
  while (deleted < limit) {
    const size = Math.min(MAINTENANCE_BATCH_SIZE, limit - deleted);
    const count = await deleteBatch(size);
    deleted += count;
    if (count < size) break;
  }
  return deleted;
}
