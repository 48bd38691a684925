/**
 * The SQL of a generation's life: pending, then succeeded with its image, or failed; either
 * final state is written together with the usage events of its model calls (one transaction).
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type GenerationTimings, generations, type NewUsageEvent } from "../db/schema";
import type { TokenUsage } from "../domain/usage";
import type { ImageRecord } from "./images";
import { type UsageRecording, usageStatements } from "./usage";

export type GenerationRecord = typeof generations.$inferInsert & { id: string };

export async function insertPendingGeneration(db: Database, record: GenerationRecord): Promise<void> {
  await db.insert(generations).values(record);
}

export interface GenerationSuccess {
  generationId: string;
  image: ImageRecord & { originalFilename: string | null; aspectRatio: string; searchText: string };
  finalPrompt: string;
  detectedLanguage: string | null;
  timings: GenerationTimings;
  usage: TokenUsage | null;
  attempts: number;
}

/**
 * Inserts the image row and marks the generation succeeded, in one statement, batched with the
 * usage events in one transaction: one round trip, and never a succeeded generation without its
 * image and its usage, or the other way round.
 */
export async function recordGenerationSucceeded(
  db: Database,
  success: GenerationSuccess,
  usage: NewUsageEvent[],
  recording: UsageRecording,
): Promise<{ imageId: string; createdAt: Date }> {
  const { image } = success;
  const succeeded = db.execute<{ image_id: string; created_at: string }>(sql`
    with image as (
      insert into images (project_id, category, storage_key, mime_type, bytes, width, height, sha256, original_filename,
                          generation_id, aspect_ratio, search_text)
      values (${image.projectId}, ${image.category}, ${image.storageKey}, ${image.mimeType}, ${image.bytes}, ${image.width},
              ${image.height}, ${image.sha256}, ${image.originalFilename}, ${success.generationId}, ${image.aspectRatio},
              ${image.searchText})
      returning id, created_at
    ),
    done as (
      update generations set status = 'succeeded', final_prompt = ${success.finalPrompt},
             detected_language = ${success.detectedLanguage},
             timings = ${JSON.stringify(success.timings)}::jsonb,
             token_usage = ${success.usage ? JSON.stringify(success.usage) : null}::jsonb,
             attempts = ${success.attempts}, completed_at = now()
      where id = ${success.generationId}
    )
    select id as image_id, created_at from image
  `);
  const [recorded] = await db.batch([succeeded, ...usageStatements(db, usage, recording)]);
  const row = recorded.rows[0];
  if (!row) throw new Error("The image row was not written");
  return { imageId: row.image_id, createdAt: new Date(row.created_at) };
}

/**
 * Marks the generation failed, with the usage events of the calls the provider charged for, in
 * one transaction; an upsert, so the failure is kept even if the pending row never made it.
 */
export async function recordGenerationFailed(
  db: Database,
  record: GenerationRecord,
  failure: { errorCode: string; errorMessage: string; timings: GenerationTimings; attempts: number },
  usage: NewUsageEvent[],
): Promise<void> {
  const failed = { status: "failed" as const, ...failure, completedAt: sql`now()` };
  const marked = db
    .insert(generations)
    .values({ ...record, ...failed })
    .onConflictDoUpdate({ target: generations.id, set: failed });
  // A failed generation is billed to nobody: nothing of it is queued for the billing export.
  await db.batch([marked, ...usageStatements(db, usage, { queueForBilling: false })]);
}
