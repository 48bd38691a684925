/**
 * Asynchronous generations (`Prefer: respond-async`): a request accepts one (quota spent, budget
 * reserved, a pending row holding all the consumer needs), the queue consumer claims and runs it
 * through the same generation path as a synchronous request, and whoever ends it without an image
 * (a failure, a cancel, the dead-letter queue) refunds its quota and budget, exactly once.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { Generation, QueuedRequest, ReferenceResolution } from "../db/schema";
import type { AspectRatio, OutputFormat, Template } from "../domain/catalog";
import type { TokenUsage } from "../domain/usage";
import type { GenerationOwner } from "../lib/access-types";
import type { ClientInfo } from "../lib/client-address";
import { AppError, ERROR_CODES, type ErrorCode } from "../lib/errors";
import { recordAudit } from "./audit";
import { budgetSettlement, findBudgetReservation } from "./budgets";
import {
  type GenerationDeps,
  type GenerationReference,
  type GenerationRequest,
  type GenerationResult,
  generationRecord,
  insertGeneration,
  runGeneration,
} from "./generation";
import { type GenerationEventDeps, onGenerationEvent } from "./generation-events";
import { readGenerations } from "./v1-generations";

/** What acceptance spent, kept on the row so that whoever ends the generation can settle or refund it. */
export interface Acceptance {
  budgetReservationId: string | null;
  quotaWindowStart: Date;
}

/** The consumer acts for no client: its audit lines name none. */
const NO_CLIENT: ClientInfo = { ip: null, userAgent: null };

/** Faults worth another attempt from the queue (message.retry()): the model or a store was down, not the request wrong. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set([
  "UPSTREAM_ERROR",
  "UPSTREAM_TIMEOUT",
  "UPSTREAM_RATE_LIMITED",
  "STORAGE_UNAVAILABLE",
  "DATABASE_UNAVAILABLE",
]);

export const isTransient = (failure: AppError) => TRANSIENT_CODES.has(failure.code);

/**
 * Records an accepted asynchronous generation as pending, with its references in order and
 * everything the consumer needs to run it (one transaction); returns its id for the queue.
 */
export async function acceptQueuedGeneration(
  deps: Pick<GenerationDeps, "db" | "imageModel">,
  owner: GenerationOwner,
  request: GenerationRequest,
  acceptance: Acceptance,
): Promise<string> {
  const { aliases } = request;
  const queuedRequest: QueuedRequest = {
    autoEnhance: request.autoEnhance,
    ...(request.filename !== undefined ? { filename: request.filename } : {}),
    ...(request.quality !== undefined ? { quality: request.quality } : {}),
    ...(aliases?.alias ? { alias: aliases.alias } : {}),
    ...(aliases?.flow ? { flow: aliases.flow } : {}),
    ...(request.notify ? { notify: request.notify } : {}),
  };
  const record = {
    ...generationRecord(deps, owner, request),
    queuedRequest,
    budgetReservationId: acceptance.budgetReservationId,
    quotaWindowStart: acceptance.quotaWindowStart,
  };
  await insertGeneration(deps.db, record, request.references);
  return record.id;
}

interface ClaimedRow extends Record<string, unknown> {
  id: string;
  api_key_id: string;
  project_id: string;
  project_slug: string;
  organization_id: string;
  organization_slug: string;
  original_prompt: string;
  template: Template | null;
  aspect_ratio: AspectRatio;
  output_format: OutputFormat;
  flow_id: string | null;
  meta: Record<string, unknown>;
  queued_request: QueuedRequest;
  budget_reservation_id: string | null;
  refs: { spec: string; alias: string | null; resolvedVia: ReferenceResolution; imageId: string; storageKey: string }[];
}

/**
 * Takes a pending asynchronous generation for this consumer, in one statement: only one claim of
 * a generation ever succeeds, so a redelivered message, or one for a canceled generation, finds
 * nothing to do and the model is never called twice.
 */
async function claimGeneration(db: Database, generationId: string): Promise<ClaimedRow | null> {
  const result = await db.execute<ClaimedRow>(sql`
    with claimed as (
      update generations set status = 'processing', updated_at = now()
      where id = ${generationId} and status = 'pending' and queued_request is not null and deleted_at is null
      returning id, api_key_id, project_id, original_prompt, template, aspect_ratio, output_format, flow_id, meta,
                queued_request, budget_reservation_id
    )
    select c.*, p.slug as project_slug, o.id as organization_id, o.slug as organization_slug,
           coalesce((select json_agg(json_build_object('spec', r.spec, 'alias', r.alias, 'resolvedVia', r.resolved_via,
                                                       'imageId', i.id, 'storageKey', i.storage_key) order by r.position)
                     from generation_references r join images i on i.id = r.image_id
                     where r.generation_id = c.id), '[]'::json) as refs
    from claimed c
    join projects p on p.id = c.project_id
    join organizations o on o.id = p.organization_id
  `);
  return result.rows[0] ?? null;
}

/** The claimed row as the generation service takes it: whom it is for and what was asked. */
async function requestOf(deps: GenerationDeps, row: ClaimedRow): Promise<{ owner: GenerationOwner; request: GenerationRequest }> {
  const owner: GenerationOwner = {
    keyId: row.api_key_id,
    organization: { id: row.organization_id, slug: row.organization_slug },
    project: { id: row.project_id, slug: row.project_slug },
  };
  const queued = row.queued_request;
  const references: GenerationReference[] = row.refs.map((ref) => ({
    spec: ref.spec,
    alias: ref.alias,
    resolvedVia: ref.resolvedVia,
    image: { id: ref.imageId, storageKey: ref.storageKey },
  }));
  const reservation = row.budget_reservation_id ? await findBudgetReservation(deps.db, row.budget_reservation_id) : null;
  const request: GenerationRequest = {
    prompt: row.original_prompt,
    aspectRatio: row.aspect_ratio,
    outputFormat: row.output_format,
    autoEnhance: queued.autoEnhance,
    template: row.template ?? "general",
    references,
    flowId: row.flow_id,
    meta: row.meta,
    aliases: { ...(queued.alias ? { alias: queued.alias } : {}), ...(queued.flow ? { flow: queued.flow } : {}) },
    ...(queued.filename !== undefined ? { filename: queued.filename } : {}),
    ...(queued.quality !== undefined ? { quality: queued.quality } : {}),
    ...(reservation
      ? {
          budget: {
            settlement: budgetSettlement(deps, reservation, {
              organizationId: owner.organization.id,
              // No client made this call: the audit of a reached threshold names none.
              client: NO_CLIENT,
            }),
          },
        }
      : {}),
  };
  return { owner, request };
}

/** What the consumer did with a message: done (ack), or worth another delivery (retry). */
export type QueuedOutcome = "succeeded" | "failed" | "skipped" | "retry";

/**
 * Runs one queued generation: claims it (a generation already claimed, finished or canceled is
 * skipped), then generates exactly as a synchronous request does. A transient fault puts it back
 * to pending for the queue's next delivery; any other failure leaves it failed with its code,
 * refunded.
 */
export async function runQueuedGeneration(deps: GenerationDeps, generationId: string): Promise<QueuedOutcome> {
  const row = await claimGeneration(deps.db, generationId);
  if (!row) return "skipped";
  const { owner, request } = await requestOf(deps, row);
  const record = generationRecord(deps, owner, request, row.id);
  onGenerationEvent(deps, { type: "generation.started", generationId });
  let result: GenerationResult;
  try {
    result = await runGeneration(deps, owner, request, record, { keepsPending: isTransient, cancelable: true });
  } catch (error) {
    const failure = error as AppError;
    if (isTransient(failure)) {
      await deps.db.execute(
        sql`update generations set status = 'pending', updated_at = now() where id = ${generationId} and status = 'processing'`,
      );
      return "retry";
    }
    // Canceled while it ran: the model was called, so its request of the quota stays spent (its
    // budget reservation was released: nothing is billed for an image nobody gets).
    if (failure.code !== "GENERATION_CANCELED") await refundQueuedGeneration(deps, generationId);
    onGenerationEvent(deps, { type: "generation.failed", generationId });
    return "failed";
  }
  // Moving an alias changes what its URL shows: audited as the synchronous request does (no client).
  for (const change of result.aliasChanges) {
    deps.defer(() =>
      recordAudit(deps.db, {
        action: "alias.changed",
        actorKeyId: owner.keyId,
        target: { type: "image", id: result.imageId },
        organizationId: owner.organization.id,
        projectId: owner.project.id,
        client: NO_CLIENT,
        metadata: { ...change },
      }),
    );
  }
  onGenerationEvent(deps, { type: "generation.succeeded", generationId });
  return "succeeded";
}

/**
 * Gives back what an asynchronous generation that made no image spent at acceptance: its request
 * of the hourly quota (in the window it was counted in) and its budget reservation. The row's
 * `refunded_at` and the reservation's deletion make each happen once, whoever calls first.
 */
export async function refundQueuedGeneration(deps: Pick<GenerationDeps, "db" | "defer">, generationId: string): Promise<void> {
  const result = await deps.db.execute<{ budget_reservation_id: string | null; organization_id: string }>(sql`
    with refunded as (
      update generations set refunded_at = now()
      where id = ${generationId} and refunded_at is null and queued_request is not null and status = 'failed'
      returning api_key_id, quota_window_start, budget_reservation_id, project_id
    ),
    quota as (
      update rate_limit_windows w set count = greatest(w.count - 1, 0)
      from refunded r where w.api_key_id = r.api_key_id and w.window_start = r.quota_window_start
      returning 1
    )
    select r.budget_reservation_id, p.organization_id from refunded r join projects p on p.id = r.project_id
  `);
  const [row] = result.rows;
  if (!row?.budget_reservation_id) return;
  const reservation = await findBudgetReservation(deps.db, row.budget_reservation_id);
  if (reservation) {
    budgetSettlement(deps, reservation, { organizationId: row.organization_id, client: NO_CLIENT }).release();
  }
}

/**
 * Ends an asynchronous generation that will not run: failed with `code`, refunded. One that
 * already ended keeps its outcome. The dead-letter queue ends those whose message exhausted its
 * retries (GENERATION_RETRIES_EXHAUSTED), acceptance one it could not queue (QUEUE_UNAVAILABLE).
 */
export async function failQueuedGeneration(
  deps: Pick<GenerationDeps, "db" | "defer"> & GenerationEventDeps,
  generationId: string,
  failure: { code: ErrorCode; message: string },
): Promise<void> {
  const result = await deps.db.execute(sql`
    update generations set status = 'failed', error_code = ${failure.code}, error_message = ${failure.message},
           completed_at = now(), updated_at = now()
    where id = ${generationId} and status in ('pending', 'processing') and queued_request is not null
  `);
  if ((result.rowCount ?? 0) === 0) return;
  await refundQueuedGeneration(deps, generationId);
  onGenerationEvent(deps, { type: "generation.failed", generationId });
}

export type GenerationStatus = Generation["status"];

/** Where the generation stands (a request held by `Prefer: wait=N` reads it until it ends). */
export async function readGenerationStatus(db: Database, generationId: string): Promise<GenerationStatus> {
  const result = await db.execute<{ status: GenerationStatus }>(sql`select status from generations where id = ${generationId}`);
  return result.rows[0]?.status ?? "pending";
}

export const hasEnded = (status: GenerationStatus) => status === "succeeded" || status === "failed";

/**
 * An ended asynchronous generation as its synchronous request would have answered it (the request
 * that waited for it with `Prefer: wait=N` answers the same): its result, read from its stored
 * rows, or, when it failed, the AppError it failed with. What the enhancer did is not stored, so
 * `enhancement` is null. Null when it has no live image (deleted since).
 */
export async function readEndedGeneration(
  db: Database,
  projectId: string,
  generationId: string,
): Promise<GenerationResult | null> {
  const [{ views }, stored] = await Promise.all([
    readGenerations(db, { projectId }, { id: generationId, limit: 1, offset: 0 }),
    db.execute<{
      output_format: OutputFormat;
      token_usage: TokenUsage | null;
      sha256: string;
      original_filename: string | null;
      created_at: string;
    }>(sql`
      select g.output_format, g.token_usage, i.sha256, i.original_filename, i.created_at
      from generations g join images i on i.generation_id = g.id and i.deleted_at is null
      where g.id = ${generationId} and g.project_id = ${projectId}
    `),
  ]);
  const [view] = views;
  if (view?.status === "failed") {
    const code = view.errorCode && view.errorCode in ERROR_CODES ? (view.errorCode as ErrorCode) : "INTERNAL_ERROR";
    throw new AppError(code, view.errorMessage ?? "The generation failed");
  }
  const [image] = stored.rows;
  if (!view?.output || !image || !view.provider) return null;
  return {
    generationId: view.id,
    imageId: view.output.id,
    flowId: view.flowId,
    storageKey: view.output.storageKey,
    filename: image.original_filename,
    width: view.output.width,
    height: view.output.height,
    format: image.output_format,
    mimeType: view.output.mimeType,
    bytes: view.output.bytes,
    sha256: image.sha256,
    aspectRatio: view.aspectRatio,
    provider: view.provider,
    model: view.model ?? "",
    prompt: view.finalPrompt ?? view.originalPrompt,
    enhancement: null,
    timings: { enhanceMs: 0, generateMs: 0, encodeMs: 0, storeMs: 0, totalMs: 0, ...view.timings },
    usage: image.token_usage,
    cost: view.cost,
    attempts: view.attempts,
    createdAt: new Date(image.created_at),
    generation: { createdAt: view.createdAt, updatedAt: view.updatedAt },
    aliasChanges: [],
  };
}

/** What canceling did: canceled (and refunded), to be discarded when it ends, or why not. */
export type CancelOutcome = "canceled" | "discarding" | "not-found" | "not-cancelable";

/**
 * Cancels an asynchronous generation of the project. One that has not started is failed with
 * GENERATION_CANCELED and refunded, and its claim then fails so the model is never called. One
 * running is marked: it runs to its end, and its image is discarded (it ends failed with
 * GENERATION_CANCELED; its quota request stays spent). One that ended, or was made
 * synchronously, cannot be canceled.
 */
export async function cancelQueuedGeneration(
  deps: Pick<GenerationDeps, "db" | "defer"> & GenerationEventDeps,
  projectId: string,
  generationId: string,
): Promise<CancelOutcome> {
  const code: ErrorCode = "GENERATION_CANCELED";
  const result = await deps.db.execute<{ canceled: boolean; discarding: boolean }>(sql`
    with target as (
      select id from generations where id = ${generationId} and project_id = ${projectId} and deleted_at is null
    ),
    canceled as (
      update generations set status = 'failed', error_code = ${code}, error_message = 'Canceled before it started',
             completed_at = now(), updated_at = now()
      where id = (select id from target) and status = 'pending' and queued_request is not null
      returning id
    ),
    discarding as (
      update generations set cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
      where id = (select id from target) and status = 'processing' and queued_request is not null
      returning id
    )
    select exists (select 1 from canceled) as canceled, exists (select 1 from discarding) as discarding from target
  `);
  const [row] = result.rows;
  if (!row) return "not-found";
  if (row.discarding) return "discarding";
  if (!row.canceled) return "not-cancelable";
  await refundQueuedGeneration(deps, generationId);
  onGenerationEvent(deps, { type: "generation.failed", generationId });
  return "canceled";
}
