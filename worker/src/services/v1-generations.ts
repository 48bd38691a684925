/**
 * Banatie v1 generations: which images a request names (its referenceImages, then the @aliases
 * of its prompt) and what they resolve to; and the generations as the v1 API reads them.
 */
import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import type { GenerationTimings } from "../db/schema";
import { aliasesInPrompt, type ReferenceSpec } from "../domain/aliases";
import type { AspectRatio } from "../domain/catalog";
import { MAX_REFERENCES } from "../domain/limits";
import { PRICE_VERSION } from "../domain/pricing";
import { AppError } from "../lib/errors";
import type { ReferenceShape } from "../providers/image-model";
import {
  aliasLockStatement,
  assertFlowAliasFree,
  flowUpsertStatement,
  type ImageOwner,
  type Resolution,
  type ResolvedImage,
  referenceSpecs,
  resolveImageRefs,
} from "./aliases";
import type { GenerationReference } from "./generation";
import type { Cost } from "./usage";

/** The references a request names, parsed, before anything is read. */
export interface ReferencePlan {
  /** From `referenceImages`, in order: each must resolve. */
  explicit: ReferenceSpec[];
  /** The prompt's @aliases not named explicitly, in order: those that do not resolve are skipped. */
  fromPrompt: ReferenceSpec[];
}

/**
 * Parses the request's references: 400 ALIAS_FORMAT_CHECK naming a malformed entry, 400
 * TOO_MANY_REFERENCES for more than MAX_REFERENCES explicit ones. Nothing is read.
 */
export function planReferences(referenceImages: readonly string[], prompt: string): ReferencePlan {
  if (referenceImages.length > MAX_REFERENCES) {
    throw new AppError(
      "TOO_MANY_REFERENCES",
      `referenceImages: at most ${MAX_REFERENCES} images, got ${referenceImages.length}`,
      {
        errors: [{ field: "referenceImages", message: `at most ${MAX_REFERENCES} images` }],
      },
    );
  }
  const explicit = referenceSpecs(referenceImages.map((value, index) => [`referenceImages.${index}`, value]));
  const named = new Set(explicit.map((spec) => spec.spec));
  const fromPrompt = aliasesInPrompt(prompt)
    .filter((alias) => !named.has(alias))
    .map((alias) => ({ spec: alias, alias }));
  return { explicit, fromPrompt };
}

/** A reference chosen for a generation, with its image's stored size (for the quote and the frame). */
export type ChosenReference = GenerationReference & { image: ResolvedImage };

/** What a request's references and flow alias resolved to (one statement). */
export interface ResolvedPlan {
  plan: ReferencePlan;
  resolutions: (Resolution | null)[];
  flowAlias?: { alias: string; resolution: Resolution | null };
}

/**
 * Resolves the plan's references, and the flow alias to give (to see whether the flow has it),
 * in one statement: run it alongside the key check with the key's hash as owner.
 */
export async function resolvePlan(
  db: Database,
  owner: ImageOwner,
  plan: ReferencePlan,
  context: { flowId: string | null; flowAlias?: string; before?: Date },
): Promise<ResolvedPlan> {
  const flowAlias = context.flowAlias && context.flowId ? context.flowAlias : undefined;
  const specs = [...plan.explicit, ...plan.fromPrompt, ...(flowAlias ? [{ spec: flowAlias, alias: flowAlias }] : [])];
  const resolved = await resolveImageRefs(db, owner, specs, { flowId: context.flowId, before: context.before });
  const referenceCount = plan.explicit.length + plan.fromPrompt.length;
  return {
    plan,
    resolutions: resolved.slice(0, referenceCount),
    ...(flowAlias ? { flowAlias: { alias: flowAlias, resolution: resolved[referenceCount] ?? null } } : {}),
  };
}

/**
 * The images the model gets, in order: the explicit references (404 IMAGE_NOT_FOUND naming one
 * that resolves to nothing, another project's image included), then the prompt's aliases that
 * resolve, each image once. More than MAX_REFERENCES is 400 TOO_MANY_REFERENCES, naming those
 * that came from the prompt. A flow alias the flow already gives is 409 ALIAS_CONFLICT.
 */
export function chooseReferences({ plan, resolutions, flowAlias }: ResolvedPlan): ChosenReference[] {
  const missing = plan.explicit.flatMap((spec, index) => (resolutions[index] ? [] : [{ spec, index }]));
  if (missing.length > 0) {
    throw new AppError(
      "IMAGE_NOT_FOUND",
      missing.map(({ spec, index }) => `referenceImages.${index}: no image ${spec.spec} in this project`).join("; "),
      { errors: missing.map(({ spec, index }) => ({ field: `referenceImages.${index}`, message: `no image ${spec.spec}` })) },
    );
  }
  if (flowAlias) assertFlowAliasFree(flowAlias.alias, flowAlias.resolution);
  const chosen: ChosenReference[] = [];
  const seen = new Set<string>();
  for (const [index, resolution] of resolutions.entries()) {
    if (!resolution || seen.has(resolution.image.id)) continue;
    seen.add(resolution.image.id);
    const fromPrompt = index >= plan.explicit.length;
    chosen.push({
      spec: resolution.spec,
      alias: resolution.alias,
      image: resolution.image,
      resolvedVia: fromPrompt ? "prompt" : resolution.scope,
    });
  }
  if (chosen.length > MAX_REFERENCES) {
    const prompted = chosen.filter((reference) => reference.resolvedVia === "prompt").map((reference) => reference.spec);
    throw new AppError(
      "TOO_MANY_REFERENCES",
      `At most ${MAX_REFERENCES} reference images; with the prompt's ${prompted.join(", ")} there are ${chosen.length}`,
      { errors: [{ field: "prompt", message: `names ${prompted.join(", ")} beyond the ${MAX_REFERENCES} references allowed` }] },
    );
  }
  return chosen;
}

/**
 * What the quote counts of the chosen references: each one's stored size and label, from its row
 * (no image is read). The budget reservation and POST /api/quotes both quote through this.
 */
export function referenceShapes(references: readonly ChosenReference[]): ReferenceShape[] {
  return references.map(({ image, alias }) => ({ width: image.width, height: image.height, label: alias }));
}

/** A stored generation as the v1 API shows it: its row, its live output image and the images it used. */
export interface GenerationView {
  id: string;
  projectId: string;
  flowId: string | null;
  status: "pending" | "processing" | "succeeded" | "failed";
  originalPrompt: string;
  finalPrompt: string | null;
  template: string | null;
  aspectRatio: AspectRatio;
  /** Null on generations recorded before providers were. */
  provider: "gemini" | "preview" | null;
  model: string | null;
  output: { id: string; storageKey: string; mimeType: string; width: number; height: number; bytes: number } | null;
  references: { imageId: string; alias: string | null }[];
  timings: GenerationTimings;
  cost: Cost;
  attempts: number;
  regenerationCount: number;
  errorCode: string | null;
  errorMessage: string | null;
  meta: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface GenerationFilter {
  /** One generation; else a page of the project's, newest first. */
  id?: string;
  flowId?: string;
  status?: GenerationView["status"];
  includeDeleted?: boolean;
  limit: number;
  offset: number;
}

interface GenerationViewRow extends Record<string, unknown> {
  id: string;
  project_id: string;
  flow_id: string | null;
  status: GenerationView["status"];
  original_prompt: string;
  final_prompt: string | null;
  template: string | null;
  aspect_ratio: AspectRatio;
  provider: GenerationView["provider"];
  model: string | null;
  timings: GenerationTimings;
  attempts: number;
  regeneration_count: number;
  error_code: string | null;
  error_message: string | null;
  meta: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  image_id: string | null;
  storage_key: string | null;
  mime_type: string | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  refs: { imageId: string; alias: string | null }[];
  enhancement_micros: number;
  generation_micros: number;
  price_version: string | null;
  total: number;
}

/**
 * Generations of the owner's project (the key's, so it runs alongside the key check), in one
 * statement: each with its live output image, its references in order and what it was billed
 * (every run of it, regenerations included), and how many match in all.
 */
export async function readGenerations(
  db: Database,
  owner: ImageOwner,
  filter: GenerationFilter,
): Promise<{ views: GenerationView[]; total: number }> {
  const project =
    "projectId" in owner
      ? sql`${owner.projectId}::uuid`
      : sql`(select project_id from api_keys where key_hash = ${owner.keyHash})`;
  const conditions = [sql`g.project_id = ${project}`];
  if (filter.id) conditions.push(sql`g.id = ${filter.id}`);
  if (filter.flowId) conditions.push(sql`g.flow_id = ${filter.flowId}`);
  if (filter.status) conditions.push(sql`g.status = ${filter.status}`);
  if (!filter.includeDeleted) conditions.push(sql`g.deleted_at is null`);
  const result = await db.execute<GenerationViewRow>(sql`
    select g.id, g.project_id, g.flow_id, g.status, g.original_prompt, g.final_prompt, g.template, g.aspect_ratio,
           g.provider, g.model, g.timings, g.attempts, g.regeneration_count, g.error_code, g.error_message, g.meta,
           g.created_at, g.updated_at, g.deleted_at,
           o.id as image_id, o.storage_key, o.mime_type, o.width, o.height, o.bytes,
           coalesce((select json_agg(json_build_object('imageId', r.image_id, 'alias', r.alias) order by r.position)
                     from generation_references r where r.generation_id = g.id), '[]'::json) as refs,
           coalesce((select sum(u.cost_usd_micros) from usage_events u
                     where u.generation_id = g.id and u.billable and u.kind = 'enhancement'), 0)::float8 as enhancement_micros,
           coalesce((select sum(u.cost_usd_micros) from usage_events u
                     where u.generation_id = g.id and u.billable and u.kind = 'generation'), 0)::float8 as generation_micros,
           (select max(u.price_version) from usage_events u where u.generation_id = g.id) as price_version,
           (count(*) over ())::int as total
    from generations g
    left join images o on o.generation_id = g.id and o.deleted_at is null
    where ${sql.join(conditions, sql` and `)}
    order by g.created_at desc, g.id desc
    limit ${filter.limit} offset ${filter.offset}
  `);
  return { views: result.rows.map(toView), total: result.rows[0]?.total ?? 0 };
}

function toView(row: GenerationViewRow): GenerationView {
  return {
    id: row.id,
    projectId: row.project_id,
    flowId: row.flow_id,
    status: row.status,
    originalPrompt: row.original_prompt,
    finalPrompt: row.final_prompt,
    template: row.template,
    aspectRatio: row.aspect_ratio,
    provider: row.provider,
    model: row.model,
    output:
      row.image_id && row.storage_key && row.mime_type
        ? {
            id: row.image_id,
            storageKey: row.storage_key,
            mimeType: row.mime_type,
            width: Number(row.width),
            height: Number(row.height),
            bytes: Number(row.bytes),
          }
        : null,
    references: row.refs,
    timings: row.timings,
    cost: {
      usdMicros: row.enhancement_micros + row.generation_micros,
      priceVersion: row.price_version ?? PRICE_VERSION,
      breakdown: { enhancement: row.enhancement_micros, generation: row.generation_micros },
    },
    attempts: row.attempts,
    regenerationCount: row.regeneration_count,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    meta: row.meta,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
  };
}

/** A live generation about to be deleted, and its live output image with whether something keeps it. */
export interface GenerationToDelete {
  id: string;
  image: { id: string; storageKey: string; aliased: boolean } | null;
}

/** The live generation of the key's project, its live output image and whether an alias points at it (one statement). */
export async function findGenerationToDelete(
  db: Database,
  owner: { keyHash: string },
  generationId: string,
): Promise<GenerationToDelete | null> {
  const result = await db.execute<{ id: string; image_id: string | null; storage_key: string | null; aliased: boolean }>(sql`
    select g.id, o.id as image_id, o.storage_key,
           exists (select 1 from image_aliases a where a.image_id = o.id) as aliased
    from generations g
    left join images o on o.generation_id = g.id and o.deleted_at is null
    where g.id = ${generationId} and g.deleted_at is null
      and g.project_id = (select project_id from api_keys where key_hash = ${owner.keyHash})
  `);
  const [row] = result.rows;
  if (!row) return null;
  return {
    id: row.id,
    image: row.image_id && row.storage_key ? { id: row.image_id, storageKey: row.storage_key, aliased: row.aliased } : null,
  };
}

/** Soft-deletes a live generation: alone, or in the transaction that deletes its output image. */
export function generationDeletedStatement(db: Database, generationId: string): BatchItem<"pg"> {
  return db.execute(
    sql`update generations set deleted_at = now(), updated_at = now() where id = ${generationId} and deleted_at is null`,
  );
}

/** What regenerating a generation needs of it: how it was asked, its output image and its explicit references. */
export interface GenerationToRegenerate {
  id: string;
  projectId: string;
  originalPrompt: string;
  template: string | null;
  aspectRatio: AspectRatio;
  outputFormat: "png" | "jpeg" | "webp";
  flowId: string | null;
  meta: Record<string, unknown>;
  createdAt: Date;
  image: { id: string; storageKey: string; filename: string | null } | null;
  /** The references the client named (not those found in the prompt, which are found again), in order. */
  explicitSpecs: string[];
}

/** A live generation of the project, as regenerating or updating it needs it (one statement). */
export async function findGenerationToRegenerate(
  db: Database,
  projectId: string,
  generationId: string,
): Promise<GenerationToRegenerate | null> {
  return selectGenerationToRegenerate(db, sql`g.id = ${generationId} and g.project_id = ${projectId}`);
}

/** The newest live generation of the project's flow, as regenerating it needs it (one statement); null when it has none. */
export async function findNewestFlowGeneration(
  db: Database,
  projectId: string,
  flowId: string,
): Promise<GenerationToRegenerate | null> {
  return selectGenerationToRegenerate(
    db,
    sql`g.project_id = ${projectId} and g.flow_id = ${flowId}`,
    sql`order by g.created_at desc, g.id desc limit 1`,
  );
}

async function selectGenerationToRegenerate(
  db: Database,
  which: SQL,
  order: SQL = sql``,
): Promise<GenerationToRegenerate | null> {
  const result = await db.execute<{
    id: string;
    project_id: string;
    original_prompt: string;
    template: string | null;
    aspect_ratio: AspectRatio;
    output_format: GenerationToRegenerate["outputFormat"];
    flow_id: string | null;
    meta: Record<string, unknown>;
    created_at: string;
    image_id: string | null;
    storage_key: string | null;
    original_filename: string | null;
    specs: string[];
  }>(sql`
    select g.id, g.project_id, g.original_prompt, g.template, g.aspect_ratio, g.output_format, g.flow_id, g.meta, g.created_at,
           o.id as image_id, o.storage_key, o.original_filename,
           coalesce((select json_agg(r.spec order by r.position) from generation_references r
                     where r.generation_id = g.id and r.resolved_via <> 'prompt'), '[]'::json) as specs
    from generations g
    left join images o on o.generation_id = g.id and o.deleted_at is null
    where ${which} and g.deleted_at is null
    ${order}
  `);
  const [row] = result.rows;
  if (!row) return null;
  return {
    id: row.id,
    projectId: row.project_id,
    originalPrompt: row.original_prompt,
    template: row.template,
    aspectRatio: row.aspect_ratio,
    outputFormat: row.output_format,
    flowId: row.flow_id,
    meta: row.meta,
    createdAt: new Date(row.created_at),
    image:
      row.image_id && row.storage_key ? { id: row.image_id, storageKey: row.storage_key, filename: row.original_filename } : null,
    explicitSpecs: row.specs,
  };
}

/**
 * The statements that change a generation's flow and meta, for one transaction: alone (a PUT
 * without a model call), or within a regeneration's final batch, so that a regeneration that fails
 * changes nothing. A new flow moves its output image too (the flow's row is written or touched),
 * and the old flow's aliases of that image are dropped: they named it within a flow it has left.
 * The alias lock comes first, as in every alias write.
 */
export function generationMetadataStatements(
  db: Database,
  generation: GenerationToRegenerate,
  changes: { flowId?: string | null; meta?: Record<string, unknown> },
): [BatchItem<"pg">, ...BatchItem<"pg">[]] {
  const { id, projectId, image } = generation;
  const flowChanges = changes.flowId !== undefined && changes.flowId !== generation.flowId;
  const set = [
    ...(changes.meta !== undefined ? [sql`meta = ${JSON.stringify(changes.meta)}::jsonb`] : []),
    ...(flowChanges ? [sql`flow_id = ${changes.flowId ?? null}::uuid`] : []),
    sql`updated_at = now()`,
  ];
  const updated = db.execute(sql`update generations set ${sql.join(set, sql`, `)} where id = ${id}`);
  if (!flowChanges || !image) return [updated];
  const newFlow = changes.flowId ?? null;
  return [
    aliasLockStatement(db, projectId),
    updated,
    ...(newFlow ? [flowUpsertStatement(db, projectId, newFlow)] : []),
    db.execute(sql`update images set flow_id = ${newFlow}::uuid, updated_at = now() where id = ${image.id}`),
    db.execute(sql`delete from image_aliases where image_id = ${image.id} and flow_id is not null`),
  ];
}

/** Changes a generation's flow and meta in one transaction, without a model call (see generationMetadataStatements). */
export async function updateGenerationMetadata(
  db: Database,
  generation: GenerationToRegenerate,
  changes: { flowId?: string | null; meta?: Record<string, unknown> },
): Promise<void> {
  const [first, ...rest] = generationMetadataStatements(db, generation, changes);
  if (rest.length === 0) await first;
  else await db.batch([first, ...rest]);
}
