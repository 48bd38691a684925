import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import type { GenerationTimings, ReferenceResolution } from "../db/schema";
import { type AspectRatio, FILE_EXTENSIONS, type OutputFormat, type Template } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import { MAX_IMAGE_PIXELS } from "../domain/limits";
import type { TokenUsage } from "../domain/usage";
import { convertImage, type EncodedImage } from "../images/codec";
import { searchText } from "../images/search-text";
import { sanitizeFilename, storageKey } from "../images/storage-key";
import type { GenerationOwner } from "../lib/access-types";
import { AppError, toAppError } from "../lib/errors";
import { logFailure } from "../lib/log";
import type { ImageModel, ReferenceImage } from "../providers/image-model";
import type { PromptEnhancer } from "../providers/prompt-enhancer";
import type { ObjectStore } from "../storage";
import type { AliasChange, AliasWrite } from "./aliases";
import type { BudgetSettlement } from "./budgets";
import { type Enhancement, enhancementCall, enhancePrompt, failedEnhancementCall, type PromptCacheLookup } from "./enhancement";
import { type GenerationNotify, onGenerationEvent } from "./generation-events";
import {
  type GenerationRecord,
  type GenerationReferenceRecord,
  insertPendingGeneration,
  recordGenerationFailed,
  recordGenerationSucceeded,
  recordRegeneration,
  recordRegenerationFailed,
} from "./generations-repository";
import { storeImage } from "./image-store";
import { loadReferences, type StoredReference } from "./references";
import { billedCost, type Cost, type ModelCall, NO_TOKENS, usageEventRows } from "./usage";
import type { WebhookQueue } from "./webhooks/deliveries";

export interface GenerationDeps {
  db: Database;
  store: ObjectStore;
  imageModel: ImageModel;
  enhancer: PromptEnhancer;
  defer: (task: () => Promise<unknown>) => void;
  /** Runs `task` in the background once the response is ready (a request's) or at once (the queue consumer's). */
  afterResponse: (task: () => Promise<unknown>) => void;
  /** Billed usage is queued for the billing export (Services.billingExport). */
  billingExport: boolean;
  /** Where the generation's webhook deliveries are queued (the WEBHOOK_QUEUE binding). */
  webhookQueue: WebhookQueue;
}

export interface GenerationRequest {
  prompt: string;
  filename?: string;
  aspectRatio: AspectRatio;
  outputFormat: OutputFormat;
  quality?: number;
  autoEnhance: boolean;
  template: Template;
  /** The prompt cache's answer, when the caller read it already (alongside authentication). */
  cachedEnhancement?: PromptCacheLookup | null;
  /** The budget reservation this generation runs on, if its key or project has a budget. */
  budget?: GenerationBudget;
  /** Images the model gets with the prompt, in order (resolved by the caller); none by default. */
  references?: readonly GenerationReference[];
  /** The flow the generation and its image belong to; none by default. */
  flowId?: string | null;
  /** The aliases the new image gets, and the flow whose row is written or touched; none by default. */
  aliases?: Omit<AliasWrite, "projectId" | "imageId">;
  /** The client's own JSON object on the generation. */
  meta?: Record<string, unknown>;
  /** Where its webhook events go; without it a synchronous generation sends none. */
  notify?: GenerationNotify;
}

/** A reference image of a request: where it is stored, what the client wrote and how it was found. */
export interface GenerationReference extends StoredReference {
  spec: string;
  resolvedVia: ReferenceResolution;
}

/** A reservation to settle to the actual cost on success, or release on failure. */
export interface GenerationBudget {
  settlement: BudgetSettlement;
  /** Its budget_reservations row, which an asynchronous generation keeps to settle it later. */
  reservationId?: string;
}

/** What happened to the prompt: the enhancement, or why the original was used instead. */
export type EnhancementOutcome = (Enhancement & { applied: true }) | { applied: false; reason: string };

export interface GenerationResult {
  generationId: string;
  imageId: string;
  flowId: string | null;
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
  /** What the user is charged for this generation: its enhancement and its image. */
  cost: Cost;
  attempts: number;
  /** When the image was stored. */
  createdAt: Date;
  /** When the generation was asked for, and last changed (when it succeeded). */
  generation: { createdAt: Date; updatedAt: Date };
  /** The aliases the new image took (from other images, or new), for the audit trail. */
  aliasChanges: AliasChange[];
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

/** One generation in progress: what was asked, by whom, and what it has cost so far. */
interface GenerationRun {
  deps: GenerationDeps;
  caller: GenerationOwner;
  request: GenerationRequest;
  generationId: string;
  filename: string | null;
  started: number;
  timings: GenerationTimings;
  /** Model calls so far; kept on the run so a failure after the model answered still records them. */
  attempts: number;
  /** Calls the providers charged for (or the stand-ins made), recorded as usage with the outcome. */
  calls: ModelCall[];
  /** Its image is discarded if it is canceled while it runs (an asynchronous generation). */
  cancelable?: boolean;
}

/** The prompt the model gets: enhanced when asked (and the enhancer answered), else the original. */
async function choosePrompt(run: GenerationRun): Promise<{ enhancement: EnhancementOutcome | null; prompt: string }> {
  const { request, timings } = run;
  const enhancement = request.autoEnhance ? await stage(timings, "enhanceMs", () => enhanceOrExplain(run)) : null;
  return { enhancement, prompt: enhancement?.applied ? enhancement.enhancedPrompt : request.prompt };
}

/** Asks the model for the image and converts it to the requested format. */
async function generateAndConvert(run: GenerationRun, prompt: string, references: readonly ReferenceImage[]) {
  const { deps, request, timings } = run;
  const { provider, model } = deps.imageModel;
  const generated = await stage(timings, "generateMs", () =>
    deps.imageModel.generate({ prompt, aspectRatio: request.aspectRatio, references }),
  ).catch((error: unknown) => {
    // A refusal was paid for; a call that failed in transport (no answer) charged nothing.
    if (error instanceof AppError && error.chargedTokens) {
      run.calls.push({ kind: "generation", provider, model, tokens: error.chargedTokens, failed: true });
    }
    throw error;
  });
  run.attempts = generated.attempts;
  run.calls.push({ kind: "generation", provider, model, tokens: generated.tokens ?? NO_TOKENS, failed: false });
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
  return { image, usage: generated.usage ?? null };
}

/** The image row of a generated image, under a storage key unique to `keyId`. */
function imageToStore(run: GenerationRun, image: EncodedImage, sha256: string, keyId: string) {
  const { caller, filename } = run;
  return {
    id: crypto.randomUUID(),
    projectId: caller.project.id,
    category: "generated" as const,
    storageKey: storageKey({
      organizationSlug: caller.organization.slug,
      projectSlug: caller.project.slug,
      category: "generated",
      id: keyId,
      filename,
      extension: FILE_EXTENSIONS[image.format],
    }),
    mimeType: image.mimeType,
    bytes: image.bytes.byteLength,
    width: image.width,
    height: image.height,
    sha256,
  };
}

/**
 * Puts the object, then runs the one statement that inserts the image row and marks the
 * generation succeeded (`storeImage` undoes the object if that statement fails).
 */
async function storeAndRecord(
  run: GenerationRun,
  image: EncodedImage,
  sha256: string,
  outcome: { prompt: string; enhancement: EnhancementOutcome | null; usage: TokenUsage | null },
) {
  const { deps, caller, request, generationId, filename, timings } = run;
  const stored = imageToStore(run, image, sha256, generationId);
  const storing = Date.now();
  const row = await storeImage(
    deps,
    { ...stored, body: image.bytes, metadata: { "generation-id": generationId, sha256, ...(filename ? { filename } : {}) } },
    () => {
      // The object is in storage: the timings are final, and are recorded with the row.
      timings.storeMs = Date.now() - storing;
      timings.totalMs = Date.now() - run.started;
      return recordGenerationSucceeded(
        deps.db,
        {
          generationId,
          image: {
            ...stored,
            flowId: request.flowId ?? null,
            originalFilename: filename,
            aspectRatio: request.aspectRatio,
            searchText: searchText(filename, request.prompt, outcome.prompt),
          },
          finalPrompt: outcome.prompt,
          detectedLanguage: outcome.enhancement?.applied ? outcome.enhancement.detectedLanguage : null,
          timings,
          usage: outcome.usage,
          attempts: run.attempts,
          aliases: request.aliases,
          cancelable: run.cancelable,
        },
        usageEventRows(caller, generationId, run.calls, true),
        { queueForBilling: deps.billingExport },
      );
    },
  );
  return { ...row, storageKey: stored.storageKey };
}

/** What a generation made, whatever it is stored as: the parts of its result both paths share. */
type MadeImage = Pick<
  GenerationResult,
  | "generationId"
  | "filename"
  | "width"
  | "height"
  | "format"
  | "mimeType"
  | "bytes"
  | "sha256"
  | "aspectRatio"
  | "provider"
  | "model"
  | "prompt"
  | "enhancement"
  | "timings"
  | "usage"
  | "cost"
  | "attempts"
>;

/**
 * Settles the run's budget reservation to what its usage record bills (the cost the response
 * reports), and describes the image it made; a first generation and a regeneration alike.
 */
function settleMadeImage(
  run: GenerationRun,
  made: { image: EncodedImage; sha256: string; prompt: string; enhancement: EnhancementOutcome | null; usage: TokenUsage | null },
): MadeImage {
  const cost = billedCost(run.calls);
  run.request.budget?.settlement.settle(cost.usdMicros);
  const { image } = made;
  const { timings } = run;
  const { imageModel } = run.deps;
  return {
    generationId: run.generationId,
    filename: run.filename,
    width: image.width,
    height: image.height,
    format: image.format,
    mimeType: image.mimeType,
    bytes: image.bytes.byteLength,
    sha256: made.sha256,
    aspectRatio: run.request.aspectRatio,
    provider: imageModel.provider,
    model: imageModel.model,
    prompt: made.prompt,
    enhancement: made.enhancement,
    timings: { enhanceMs: 0, generateMs: 0, encodeMs: 0, storeMs: 0, ...timings, totalMs: timings.totalMs ?? 0 },
    usage: made.usage,
    cost,
    attempts: run.attempts,
  };
}

/** The generation row a request is recorded as, before the model is called. */
export function generationRecord(
  deps: Pick<GenerationDeps, "imageModel">,
  caller: GenerationOwner,
  request: GenerationRequest,
  generationId: string = crypto.randomUUID(),
): GenerationRecord {
  return {
    id: generationId,
    projectId: caller.project.id,
    apiKeyId: caller.keyId,
    originalPrompt: request.prompt,
    template: request.autoEnhance ? request.template : null,
    aspectRatio: request.aspectRatio,
    outputFormat: request.outputFormat,
    provider: deps.imageModel.provider,
    model: deps.imageModel.model,
    flowId: request.flowId ?? null,
    meta: request.meta ?? {},
  };
}

/** The pending row of a generation and the images it uses, in the model's order (one transaction). */
export function insertGeneration(
  db: Database,
  record: GenerationRecord,
  references: readonly GenerationReference[] = [],
): Promise<void> {
  return insertPendingGeneration(db, record, references.map(referenceRecord));
}

/**
 * Generates an image and records it. Order keeps everything consistent: a `pending` generation
 * row first; then `storeImage` puts the object and runs the one statement that inserts the image
 * row and marks the generation succeeded (it undoes the object if that statement fails). Any
 * failure leaves the generation `failed` with its code, and no image row or object. References
 * are read from storage while the prompt is enhanced, and reach the model before the prompt.
 * Its outcome is sent to `request.notify`'s webhooks after the response (no "started": the
 * caller is holding the request).
 */
export async function generateImage(
  deps: GenerationDeps,
  caller: GenerationOwner,
  request: GenerationRequest,
): Promise<GenerationResult> {
  const record = generationRecord(deps, caller, request);
  // The pending row is written while the model works; it is awaited before anything is stored.
  const pending = insertGeneration(deps.db, record, request.references);
  // Observed here so a failure cannot go unhandled before it is awaited.
  pending.catch(() => {});
  const { notify } = request;
  try {
    const result = await runGeneration(deps, caller, request, record, { written: pending });
    if (notify) onGenerationEvent(deps, { type: "generation.succeeded", generationId: record.id, notify });
    return result;
  } catch (error) {
    if (notify) onGenerationEvent(deps, { type: "generation.failed", generationId: record.id, notify });
    throw error;
  }
}

export interface RunOptions {
  /** The pending row's write, awaited before anything is stored; already written by default. */
  written?: Promise<void>;
  /**
   * A failure that leaves the generation as it is (pending, for another attempt) rather than
   * failed, its budget still reserved: the queue consumer's transient faults.
   */
  keepsPending?: (failure: AppError) => boolean;
  /** Discards the image of a generation canceled while it runs (GENERATION_CANCELED): an asynchronous one. */
  cancelable?: boolean;
}

/**
 * Runs a recorded generation to its outcome: the one path of the synchronous request and the
 * queue consumer (see generateImage for the order of writes).
 */
export async function runGeneration(
  deps: GenerationDeps,
  caller: GenerationOwner,
  request: GenerationRequest,
  record: GenerationRecord,
  options: RunOptions = {},
): Promise<GenerationResult> {
  const run: GenerationRun = {
    started: Date.now(),
    deps,
    caller,
    request,
    generationId: record.id,
    filename: request.filename ? sanitizeFilename(request.filename) : null,
    timings: {},
    attempts: 0,
    calls: [],
    cancelable: options.cancelable,
  };
  const { db } = deps;
  const { generationId, timings } = run;
  const references = request.references ?? [];
  // Read while the prompt is enhanced; both are needed before the model call.
  const loading = references.length > 0 ? loadReferences(deps, references) : Promise.resolve([]);
  // Observed here so a failure cannot go unhandled before the awaits below.
  loading.catch(() => {});

  try {
    const { enhancement, prompt } = await choosePrompt(run);
    const { image, usage } = await generateAndConvert(run, prompt, await loading);
    const sha256 = await sha256Hex(image.bytes);
    await options.written;
    const row = await storeAndRecord(run, image, sha256, { prompt, enhancement, usage });
    return {
      ...settleMadeImage(run, { image, sha256, prompt, enhancement, usage }),
      imageId: row.imageId,
      flowId: record.flowId ?? null,
      storageKey: row.storageKey,
      createdAt: row.createdAt,
      generation: row.generation,
      aliasChanges: row.aliasChanges,
    };
  } catch (error) {
    const failure = toAppError(error);
    if (options.keepsPending?.(failure)) throw failure;
    // A failed generation is never charged to the user.
    request.budget?.settlement.release();
    timings.totalMs = Date.now() - run.started;
    // The calls the provider charged for are kept, not billable: the user got no image.
    const usage = usageEventRows(caller, generationId, run.calls, false);
    await recordGenerationFailed(
      db,
      record,
      { errorCode: failure.code, errorMessage: failure.message, timings, attempts: run.attempts },
      usage,
    )
      // The client still gets the real failure; the log says why the record could not be kept.
      .catch((cause: unknown) => logFailure("generation not marked failed", cause, { generationId }));
    throw failure;
  }
}

/**
 * An enhancer failure must not fail the generation: the original prompt is used, and the
 * response says why. The enhancer's call is kept for the usage record (a cache hit made none).
 */
async function enhanceOrExplain(run: GenerationRun): Promise<EnhancementOutcome> {
  const { deps, caller, request } = run;
  try {
    const labels = (request.references ?? []).map((reference) => ({ label: reference.alias }));
    const enhancement = await enhancePrompt(
      deps,
      caller.project.id,
      request.prompt,
      request.template,
      request.cachedEnhancement,
      labels,
    );
    const call = enhancementCall(enhancement);
    if (call) run.calls.push(call);
    return { ...enhancement, applied: true };
  } catch (error) {
    const call = failedEnhancementCall(deps.enhancer, error);
    if (call) run.calls.push(call);
    const reason = error instanceof AppError ? error.message : "The enhancer failed";
    return { applied: false, reason: `${reason}; the original prompt was used` };
  }
}

function referenceRecord(reference: GenerationReference): GenerationReferenceRecord {
  return { imageId: reference.image.id, spec: reference.spec, alias: reference.alias, resolvedVia: reference.resolvedVia };
}

/** The generation to regenerate in place, and the image it replaces (none when it had failed). */
export interface RegenerationTarget {
  generationId: string;
  image: { id: string; storageKey: string } | null;
  /** The file name its image was stored under, kept for the new object. */
  filename: string | null;
  /** The request's own changes (a PUT's flow and meta), written in the regeneration's transaction: none if it fails. */
  alongside?: readonly BatchItem<"pg">[];
}

export interface RegenerationResult extends GenerationResult {
  /** The object the image had before, to delete (and purge) now that nothing points at it. */
  replacedStorageKey: string | null;
  regenerationCount: number;
}

/**
 * Generates again for an existing generation, as `request` now says, and replaces its image in
 * place: the new object is stored under a new key, then one transaction points the same image row
 * at it (its id and stable URL stay), updates the generation and adds the usage events. On any
 * failure the generation and its image stay as they were; the calls the provider charged for are
 * recorded, not billable, and the budget reservation is released. Its outcome is sent to
 * `request.notify`'s webhooks after the response, as generateImage's is.
 */
export async function regenerateImage(
  deps: GenerationDeps,
  caller: GenerationOwner,
  request: GenerationRequest,
  target: RegenerationTarget,
): Promise<RegenerationResult> {
  const { generationId } = target;
  const run: GenerationRun = {
    started: Date.now(),
    deps,
    caller,
    request,
    generationId,
    filename: target.filename,
    timings: {},
    attempts: 0,
    calls: [],
  };
  const { timings } = run;
  const references = request.references ?? [];
  const loading = references.length > 0 ? loadReferences(deps, references) : Promise.resolve([]);
  loading.catch(() => {});
  try {
    const { enhancement, prompt } = await choosePrompt(run);
    const { image, usage } = await generateAndConvert(run, prompt, await loading);
    const sha256 = await sha256Hex(image.bytes);
    // A new key: the old object stays served until the row points elsewhere.
    const stored = { ...imageToStore(run, image, sha256, crypto.randomUUID()), id: target.image?.id ?? crypto.randomUUID() };
    const { id: _, ...record } = stored;
    const storing = Date.now();
    const row = await storeImage(
      deps,
      { ...record, body: image.bytes, metadata: { "generation-id": generationId, sha256 } },
      () => {
        timings.storeMs = Date.now() - storing;
        timings.totalMs = Date.now() - run.started;
        return recordRegeneration(
          deps.db,
          {
            generationId,
            replaces: target.image,
            image: {
              ...stored,
              flowId: request.flowId ?? null,
              originalFilename: run.filename,
              aspectRatio: request.aspectRatio,
              searchText: searchText(run.filename, request.prompt, prompt),
            },
            originalPrompt: request.prompt,
            template: request.autoEnhance ? request.template : null,
            finalPrompt: prompt,
            detectedLanguage: enhancement?.applied ? enhancement.detectedLanguage : null,
            timings,
            usage,
            attempts: run.attempts,
            references: references.map(referenceRecord),
            alongside: target.alongside,
          },
          usageEventRows(caller, generationId, run.calls, true),
          { queueForBilling: deps.billingExport },
        );
      },
    );
    if (request.notify) onGenerationEvent(deps, { type: "generation.succeeded", generationId, notify: request.notify });
    return {
      ...settleMadeImage(run, { image, sha256, prompt, enhancement, usage }),
      imageId: row.imageId,
      flowId: request.flowId ?? null,
      storageKey: stored.storageKey,
      createdAt: row.createdAt,
      generation: { createdAt: row.generation.createdAt, updatedAt: row.generation.updatedAt },
      aliasChanges: [],
      replacedStorageKey: target.image?.storageKey ?? null,
      regenerationCount: row.generation.regenerationCount,
    };
  } catch (error) {
    request.budget?.settlement.release();
    const failure = toAppError(error);
    await recordRegenerationFailed(deps.db, usageEventRows(caller, generationId, run.calls, false)).catch((cause: unknown) =>
      logFailure("failed regeneration's usage not recorded", cause, { generationId }),
    );
    if (request.notify) {
      onGenerationEvent(deps, { type: "generation.failed", generationId, notify: request.notify, errorCode: failure.code });
    }
    throw failure;
  }
}
