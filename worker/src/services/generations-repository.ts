/**
 * The SQL of a generation's life: pending, then succeeded with its image, or failed; either
 * final state is written together with the usage events of its model calls (one transaction).
 */
import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { DrizzleQueryError } from "drizzle-orm/errors";
import type { Database } from "../db/client";
import {
  type GenerationTimings,
  generationReferences,
  generations,
  type NewUsageEvent,
  type ReferenceResolution,
} from "../db/schema";
import type { TokenUsage } from "../domain/usage";
import { AppError } from "../lib/errors";
import { type AliasChange, type AliasWrite, aliasWriteStatements, rethrowAliasConflict } from "./aliases";
import type { ImageRecord } from "./images";
import { type UsageRecording, usageStatements } from "./usage";

export type GenerationRecord = typeof generations.$inferInsert & { id: string };

/** An image a generation sends to the model, as the client named it and how it was found. */
export interface GenerationReferenceRecord {
  imageId: string;
  spec: string;
  alias: string | null;
  resolvedVia: ReferenceResolution;
}

/** The pending row, and the images it uses in the model's order, in one transaction. */
export async function insertPendingGeneration(
  db: Database,
  record: GenerationRecord,
  references: readonly GenerationReferenceRecord[] = [],
): Promise<void> {
  const pending = db.insert(generations).values(record);
  if (references.length === 0) {
    await pending;
    return;
  }
  const used = db
    .insert(generationReferences)
    .values(references.map((reference, index) => ({ ...reference, generationId: record.id, position: index + 1 })));
  await db.batch([pending, used]);
}

export interface GenerationSuccess {
  generationId: string;
  image: ImageRecord & {
    id: string;
    flowId: string | null;
    originalFilename: string | null;
    aspectRatio: string;
    searchText: string;
  };
  /** The aliases the new image gets, and the flow it is used in (written or touched). */
  aliases?: Omit<AliasWrite, "projectId" | "imageId">;
  finalPrompt: string;
  detectedLanguage: string | null;
  timings: GenerationTimings;
  usage: TokenUsage | null;
  attempts: number;
  /**
   * An asynchronous generation, which may be canceled while it runs: the batch refuses
   * (GENERATION_CANCELED) to record an image for one canceled meanwhile.
   */
  cancelable?: boolean;
}

/** Marks the failing cast that refuses to record a canceled generation's image, so the batch rolls back. */
const CANCELED_MARK = "banatie:generation-canceled:";

/**
 * Fails the batch when the generation was canceled while running (the batch's update holds its
 * row, so a cancel either landed first and is seen here, or waits and finds it ended). The mark
 * is joined to the id so that the cast is not folded into a constant and raised for every row.
 */
function notCanceledGuard(db: Database, generationId: string): BatchItem<"pg"> {
  return db.execute(sql`
    select case when cancel_requested_at is not null then (${CANCELED_MARK} || id::text)::int end as canceled
    from generations where id = ${generationId}
  `);
}

/** Rethrows a batch's failure: the guard's refusal as GENERATION_CANCELED, anything else as aliases do. */
function rethrowCanceledOrAliasConflict(error: unknown): never {
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  const { message } = (driverError ?? {}) as { message?: unknown };
  if (typeof message === "string" && message.includes(CANCELED_MARK)) {
    throw new AppError("GENERATION_CANCELED", "Canceled while it ran: its image was discarded");
  }
  return rethrowAliasConflict(error);
}

/**
 * Inserts the image row and marks the generation succeeded, in one statement, batched with the
 * usage events and the image's aliases in one transaction: one round trip, and never a succeeded
 * generation without its image and its usage, or the other way round. A flow alias found taken
 * (by a concurrent request) is 409 ALIAS_CONFLICT, and nothing of the batch is kept.
 */
export async function recordGenerationSucceeded(
  db: Database,
  success: GenerationSuccess,
  usage: NewUsageEvent[],
  recording: UsageRecording,
): Promise<{
  imageId: string;
  createdAt: Date;
  generation: { createdAt: Date; updatedAt: Date };
  aliasChanges: AliasChange[];
}> {
  const { image } = success;
  const succeeded = db.execute<{
    image_id: string;
    created_at: string;
    generation_created_at: string;
    generation_updated_at: string;
  }>(sql`
    with image as (
      insert into images (id, project_id, flow_id, category, storage_key, mime_type, bytes, width, height, sha256,
                          original_filename, generation_id, aspect_ratio, search_text)
      values (${image.id}, ${image.projectId}, ${image.flowId}::uuid, ${image.category}, ${image.storageKey}, ${image.mimeType}, ${image.bytes}, ${image.width},
              ${image.height}, ${image.sha256}, ${image.originalFilename}, ${success.generationId}, ${image.aspectRatio},
              ${image.searchText})
      returning id, created_at
    ),
    done as (
      update generations set status = 'succeeded', final_prompt = ${success.finalPrompt},
             detected_language = ${success.detectedLanguage},
             timings = ${JSON.stringify(success.timings)}::jsonb,
             token_usage = ${success.usage ? JSON.stringify(success.usage) : null}::jsonb,
             attempts = ${success.attempts}, completed_at = now(), updated_at = now()
      where id = ${success.generationId}
      returning created_at, updated_at
    )
    select id as image_id, created_at, (select created_at from done) as generation_created_at,
           (select updated_at from done) as generation_updated_at
    from image
  `);
  const aliases = success.aliases
    ? aliasWriteStatements(db, { ...success.aliases, projectId: image.projectId, imageId: image.id })
    : { statements: [], changes: () => [] };
  // Last: by then the update holds the row, so a cancel either committed before (and is seen) or waits.
  const guard = success.cancelable ? [notCanceledGuard(db, success.generationId)] : [];
  const results = await db
    .batch([succeeded, ...aliases.statements, ...usageStatements(db, usage, recording), ...guard])
    .catch(rethrowCanceledOrAliasConflict);
  const [recorded] = results;
  const row = recorded.rows[0];
  if (!row) throw new Error("The image row was not written");
  return {
    imageId: row.image_id,
    createdAt: new Date(row.created_at),
    generation: { createdAt: new Date(row.generation_created_at), updatedAt: new Date(row.generation_updated_at) },
    aliasChanges: aliases.changes(results.slice(1, 1 + aliases.statements.length)),
  };
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

export interface Regenerated {
  generationId: string;
  /** The image to replace in place, keeping its id; null inserts the generation's first image (it had failed). */
  replaces: { id: string } | null;
  image: GenerationSuccess["image"];
  originalPrompt: string;
  template: string | null;
  finalPrompt: string;
  detectedLanguage: string | null;
  timings: GenerationTimings;
  usage: TokenUsage | null;
  attempts: number;
  references: readonly GenerationReferenceRecord[];
  /** The request's own changes to run first in the same transaction (a PUT's flow and meta): kept only with it. */
  alongside?: readonly BatchItem<"pg">[];
}

/**
 * Records an in-place regeneration in one transaction: the image row takes the new object (same
 * id, so its stable URL stays) and loses the variants of the old one; the generation takes the
 * new prompt, timings and references, and counts the regeneration; the usage events are added.
 */
export async function recordRegeneration(
  db: Database,
  regenerated: Regenerated,
  usage: NewUsageEvent[],
  recording: UsageRecording,
): Promise<{ imageId: string; createdAt: Date; generation: { createdAt: Date; updatedAt: Date; regenerationCount: number } }> {
  const { image, generationId } = regenerated;
  const imageId = regenerated.replaces?.id ?? image.id;
  const imageStatement = regenerated.replaces
    ? sql`
      update images set storage_key = ${image.storageKey}, mime_type = ${image.mimeType}, bytes = ${image.bytes},
             width = ${image.width}, height = ${image.height}, sha256 = ${image.sha256}, aspect_ratio = ${image.aspectRatio},
             search_text = ${image.searchText}, updated_at = now()
      where id = ${imageId} and deleted_at is null
      returning id, created_at`
    : sql`
      insert into images (id, project_id, flow_id, category, storage_key, mime_type, bytes, width, height, sha256,
                          original_filename, generation_id, aspect_ratio, search_text)
      values (${imageId}, ${image.projectId}, ${image.flowId}::uuid, ${image.category}, ${image.storageKey}, ${image.mimeType},
              ${image.bytes}, ${image.width}, ${image.height}, ${image.sha256}, ${image.originalFilename}, ${generationId},
              ${image.aspectRatio}, ${image.searchText})
      returning id, created_at`;
  const written = db.execute<{ id: string; created_at: string }>(imageStatement);
  const variantsGone = db.execute(sql`delete from image_variants where image_id = ${imageId}`);
  const generation = db.execute<{ created_at: string; updated_at: string; regeneration_count: number }>(sql`
    update generations set status = 'succeeded', original_prompt = ${regenerated.originalPrompt},
           template = ${regenerated.template}, aspect_ratio = ${image.aspectRatio}, final_prompt = ${regenerated.finalPrompt},
           detected_language = ${regenerated.detectedLanguage}, timings = ${JSON.stringify(regenerated.timings)}::jsonb,
           token_usage = ${regenerated.usage ? JSON.stringify(regenerated.usage) : null}::jsonb,
           attempts = ${regenerated.attempts}, error_code = null, error_message = null,
           regeneration_count = regeneration_count + 1, completed_at = now(), updated_at = now()
    where id = ${generationId}
    returning created_at, updated_at, regeneration_count`);
  const referencesGone = db.execute(sql`delete from generation_references where generation_id = ${generationId}`);
  const referencesNow =
    regenerated.references.length > 0
      ? [
          db
            .insert(generationReferences)
            .values(regenerated.references.map((reference, index) => ({ ...reference, generationId, position: index + 1 }))),
        ]
      : [];
  const alongside = regenerated.alongside ?? [];
  const results = await db.batch([
    ...alongside,
    written,
    variantsGone,
    generation,
    referencesGone,
    ...referencesNow,
    ...usageStatements(db, usage, recording),
  ] as [BatchItem<"pg">, ...BatchItem<"pg">[]]);
  const [imageResult, , generationResult] = results.slice(alongside.length) as { rows: unknown[] }[];
  const imageRow = (imageResult as { rows: { id: string; created_at: string }[] }).rows[0];
  const generationRow = (generationResult as { rows: { created_at: string; updated_at: string; regeneration_count: number }[] })
    .rows[0];
  if (!imageRow || !generationRow) throw new Error("The regenerated image was not recorded");
  return {
    imageId: imageRow.id,
    createdAt: new Date(imageRow.created_at),
    generation: {
      createdAt: new Date(generationRow.created_at),
      updatedAt: new Date(generationRow.updated_at),
      regenerationCount: generationRow.regeneration_count,
    },
  };
}

/** Records the model calls of a regeneration that failed (not billable); the generation and its image stay as they were. */
export async function recordRegenerationFailed(db: Database, usage: NewUsageEvent[]): Promise<void> {
  const statements = usageStatements(db, usage, { queueForBilling: false });
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}
