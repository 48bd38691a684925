import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type GenerationTimings, generations } from "../db/schema";
import { type AspectRatio, FILE_EXTENSIONS, type OutputFormat, type Template } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import { MAX_IMAGE_PIXELS } from "../domain/limits";
import type { TokenUsage } from "../domain/usage";
import { convertImage } from "../images/codec";
import { searchText } from "../images/search-text";
import { sanitizeFilename, storageKey } from "../images/storage-key";
import type { ProjectCaller } from "../lib/access-types";
import { AppError, toAppError } from "../lib/errors";
import { logFailure } from "../lib/log";
import type { ImageModel } from "../providers/image-model";
import type { PromptEnhancer } from "../providers/prompt-enhancer";
import type { ObjectStore } from "../storage";
import { putOrRemoveLater, removeObjectOfFailedRow } from "../storage/abandoned-write";
import { type Enhancement, enhancePrompt } from "./enhancement";
import { type ImageRecord, settleUnansweredImageRow } from "./images";

export interface GenerationDeps {
  db: Database;
  store: ObjectStore;
  imageModel: ImageModel;
  enhancer: PromptEnhancer;
  defer: (task: () => Promise<unknown>) => void;
}

export interface GenerationRequest {
  prompt: string;
  filename?: string;
  aspectRatio: AspectRatio;
  outputFormat: OutputFormat;
  quality?: number;
  autoEnhance: boolean;
  template: Template;
}

/** What happened to the prompt: the enhancement, or why the original was used instead. */
export type EnhancementOutcome = (Enhancement & { applied: true }) | { applied: false; reason: string };

export interface GenerationResult {
  generationId: string;
  imageId: string;
  storageKey: string;
  filename: string | null;
  width: number;
  height: number;
  format: OutputFormat;
  mimeType: string;
  bytes: number;
  sha256: string;
  aspectRatio: AspectRatio;
  provider: ImageModel["provider"];
  model: string;
  prompt: string;
  enhancement: EnhancementOutcome | null;
  timings: Required<GenerationTimings>;
  usage: TokenUsage | null;
  attempts: number;
  createdAt: Date;
}

/** Measures one stage in milliseconds (coarse in Workers, where clocks advance on I/O). */
async function stage<T>(timings: GenerationTimings, name: keyof GenerationTimings, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    timings[name] = Date.now() - started;
  }
}

/**
 * Generates an image and records it. Order keeps everything consistent: a `pending` generation
 * row first; then the object is stored; then one statement inserts the image row and marks the
 * generation succeeded. If that statement is refused the object is deleted; if it got no answer
 * it may still commit, so the object is deleted later only once the row is settled as never
 * written (storage/abandoned-write.ts). Any other failure leaves the generation `failed` with its code,
 * and no image row or object.
 */
export async function generateImage(
  deps: GenerationDeps,
  caller: ProjectCaller,
  request: GenerationRequest,
): Promise<GenerationResult> {
  const started = Date.now();
  const timings: GenerationTimings = {};
  const generationId = crypto.randomUUID();
  const filename = request.filename ? sanitizeFilename(request.filename) : null;
  const { db, store, imageModel } = deps;

  const record = {
    id: generationId,
    projectId: caller.project.id,
    apiKeyId: caller.keyId,
    originalPrompt: request.prompt,
    template: request.autoEnhance ? request.template : null,
    aspectRatio: request.aspectRatio,
    outputFormat: request.outputFormat,
    provider: imageModel.provider,
    model: imageModel.model,
  };
  // The pending row is written while the model works; it is awaited before anything is stored.
  const pending = db
    .insert(generations)
    .values(record)
    .then(() => undefined);
  // Observed here so a failure cannot go unhandled before the await below.
  pending.catch(() => {});

  let stored: ImageRecord | null = null;
  let attempts = 0;
  try {
    const enhancement = request.autoEnhance
      ? await stage(timings, "enhanceMs", () => enhanceOrExplain(deps, caller.project.id, request))
      : null;
    const prompt = enhancement?.applied ? enhancement.enhancedPrompt : request.prompt;

    const generated = await stage(timings, "generateMs", () => imageModel.generate({ prompt, aspectRatio: request.aspectRatio }));
    attempts = generated.attempts;
    const image = await stage(timings, "encodeMs", async () => {
      try {
        return await convertImage(generated.bytes, request.outputFormat, {
          maxPixels: MAX_IMAGE_PIXELS,
          quality: request.quality,
        });
      } catch (cause) {
        throw new AppError("UPSTREAM_BAD_RESPONSE", "The model's image could not be read", { cause });
      }
    });
    const sha256 = await sha256Hex(image.bytes);
    await pending;

    const key = storageKey({
      organizationSlug: caller.organization.slug,
      projectSlug: caller.project.slug,
      category: "generated",
      id: generationId,
      filename,
      extension: FILE_EXTENSIONS[image.format],
    });
    await stage(timings, "storeMs", () =>
      putOrRemoveLater(store, deps.defer, key, image.bytes, {
        contentType: image.mimeType,
        metadata: { "generation-id": generationId, sha256, ...(filename ? { filename } : {}) },
      }),
    );
    stored = {
      projectId: caller.project.id,
      category: "generated",
      storageKey: key,
      mimeType: image.mimeType,
      bytes: image.bytes.byteLength,
      width: image.width,
      height: image.height,
      sha256,
    };

    timings.totalMs = Date.now() - started;
    const usage = generated.usage ?? null;
    const recorded = await db.execute<{ image_id: string; created_at: string }>(sql`
      with image as (
        insert into images (project_id, category, storage_key, mime_type, bytes, width, height, sha256, original_filename,
                            generation_id, aspect_ratio, search_text)
        values (${caller.project.id}, 'generated', ${key}, ${image.mimeType}, ${image.bytes.byteLength}, ${image.width},
                ${image.height}, ${sha256}, ${filename}, ${generationId}, ${request.aspectRatio},
                ${searchText(filename, request.prompt, prompt)})
        returning id, created_at
      ),
      done as (
        update generations set status = 'succeeded', final_prompt = ${prompt},
               detected_language = ${enhancement?.applied ? enhancement.detectedLanguage : null},
               timings = ${JSON.stringify(timings)}::jsonb, token_usage = ${usage ? JSON.stringify(usage) : null}::jsonb,
               attempts = ${attempts}, completed_at = now()
        where id = ${generationId}
      )
      select id as image_id, created_at from image
    `);
    const row = recorded.rows[0];
    if (!row) throw new Error("The image row was not written");

    return {
      generationId,
      imageId: row.image_id,
      storageKey: key,
      filename,
      width: image.width,
      height: image.height,
      format: image.format,
      mimeType: image.mimeType,
      bytes: image.bytes.byteLength,
      sha256,
      aspectRatio: request.aspectRatio,
      provider: imageModel.provider,
      model: imageModel.model,
      prompt,
      enhancement,
      timings: { enhanceMs: 0, generateMs: 0, encodeMs: 0, storeMs: 0, ...timings, totalMs: timings.totalMs },
      usage,
      attempts,
      createdAt: new Date(row.created_at),
    };
  } catch (error) {
    const failure = toAppError(error);
    if (stored) {
      const record = stored;
      await removeObjectOfFailedRow(store, deps.defer, record.storageKey, error, () => settleUnansweredImageRow(db, record));
    }
    timings.totalMs = Date.now() - started;
    // An upsert, so the failure is recorded even if the pending row never made it.
    const failed = {
      status: "failed" as const,
      errorCode: failure.code,
      errorMessage: failure.message,
      timings,
      attempts,
      completedAt: sql`now()`,
    };
    await db
      .insert(generations)
      .values({ ...record, ...failed })
      .onConflictDoUpdate({ target: generations.id, set: failed })
      // The client still gets the real failure; the log says why the record could not be kept.
      .catch((cause: unknown) => logFailure("generation not marked failed", cause, { generationId }));
    throw failure;
  }
}

/** An enhancer failure must not fail the generation: the original prompt is used, and the response says why. */
async function enhanceOrExplain(
  deps: GenerationDeps,
  projectId: string,
  request: GenerationRequest,
): Promise<EnhancementOutcome> {
  try {
    return { ...(await enhancePrompt(deps, projectId, request.prompt, request.template)), applied: true };
  } catch (error) {
    const reason = error instanceof AppError ? error.message : "The enhancer failed";
    return { applied: false, reason: `${reason}; the original prompt was used` };
  }
}
