/**
 * Flows: chains of generations and uploads sharing a flow id. A flow's row exists once the id
 * is reused or given an alias (flows are lazy); until then the flow is what its generations and
 * images say.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { AppError, type FieldError } from "../lib/errors";
import {
  type AliasChange,
  aliasLockStatement,
  flowAliasStatements,
  type ImageOwner,
  ownerProject,
  referenceSpecs,
  resolveImageRefs,
} from "./aliases";

/** A flow as the v1 API shows it; counts and aliases cover live images and generations only. */
export interface FlowSummary {
  id: string;
  /** Its flow aliases: alias → image id. */
  aliases: Record<string, string>;
  generationCount: number;
  imageCount: number;
  meta: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

interface FlowRow extends Record<string, unknown> {
  id: string;
  aliases: Record<string, string>;
  generation_count: number;
  image_count: number;
  meta: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** The summary columns of the flows in `f` (project_id, id, meta, created_at, updated_at). */
const SUMMARY_COLUMNS = sql`
  f.id, f.meta, f.created_at, f.updated_at,
  (select count(*)::int from generations g
   where g.project_id = f.project_id and g.flow_id = f.id and g.deleted_at is null) as generation_count,
  (select count(*)::int from images i
   where i.project_id = f.project_id and i.flow_id = f.id and i.deleted_at is null) as image_count,
  (select coalesce(jsonb_object_agg(a.alias, a.image_id), '{}'::jsonb)
   from image_aliases a join images i on i.id = a.image_id
   where a.project_id = f.project_id and a.flow_id = f.id and i.deleted_at is null) as aliases`;

/** A project id, or whose project: a key's, for reads run alongside its check. */
function ownerOf(owner: string | ImageOwner): ImageOwner {
  return typeof owner === "string" ? { projectId: owner } : owner;
}

function toFlowSummary(row: FlowRow): FlowSummary {
  return {
    id: row.id,
    aliases: row.aliases,
    generationCount: Number(row.generation_count),
    imageCount: Number(row.image_count),
    meta: row.meta,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * One flow of the owner's project: its row, or for a lazy flow what its live generations and
 * images say (created with the first, updated with the last). Null when the project has neither.
 */
function flowSummaryQuery(owner: ImageOwner, flowId: string): SQL {
  return sql`
    with owner as (${ownerProject(owner)}),
    stored as (
      select project_id, id, meta, created_at, updated_at from flows where project_id = (select id from owner) and id = ${flowId}
    ),
    used as (
      select created_at, updated_at from generations
      where project_id = (select id from owner) and flow_id = ${flowId} and deleted_at is null
      union all
      select created_at, updated_at from images where project_id = (select id from owner) and flow_id = ${flowId} and deleted_at is null
    ),
    lazy as (
      select (select id from owner) as project_id, ${flowId}::uuid as id, '{}'::jsonb as meta, min(created_at) as created_at,
             max(updated_at) as updated_at
      from used having count(*) > 0
    ),
    f as (select * from stored union all select * from lazy where not exists (select 1 from stored))
    select ${SUMMARY_COLUMNS} from f`;
}

/** The flow, of a project or of the project of a key (to read alongside its check); null when it has none. */
export async function getFlow(db: Database, owner: string | ImageOwner, flowId: string): Promise<FlowSummary | null> {
  const result = await db.execute<FlowRow>(flowSummaryQuery(ownerOf(owner), flowId));
  const row = result.rows[0];
  return row ? toFlowSummary(row) : null;
}

/**
 * A page of the project's flows, newest first, and how many it has: one statement. Lists the
 * flows that have a row; a flow used once (lazy) is opened by its id.
 */
export async function listFlows(
  db: Database,
  owner: string | ImageOwner,
  page: { limit: number; offset: number },
): Promise<{ flows: FlowSummary[]; total: number }> {
  const result = await db.execute<FlowRow & { total: number }>(sql`
    with owner as (${ownerProject(ownerOf(owner))}),
    f as (
      select project_id, id, meta, created_at, updated_at from flows where project_id = (select id from owner)
      order by created_at desc, id desc limit ${page.limit} offset ${page.offset}
    )
    select t.total, s.* from (select count(*)::int as total from flows where project_id = (select id from owner)) t
    left join (select ${SUMMARY_COLUMNS} from f) s on true
    order by s.created_at desc, s.id desc`);
  const total = Number(result.rows[0]?.total ?? 0);
  return { flows: result.rows.filter((row) => row.id).map(toFlowSummary), total };
}

/**
 * Gives the flow these aliases (alias → image id or `@alias`), overwriting those it has, and
 * writes its row if it was lazy. Every target must be a live image of the project (404
 * IMAGE_NOT_FOUND naming the alias); an `@alias` target resolves in this flow (technical, flow,
 * then project). Two exchanges: the resolution, then one transaction that also reads the result.
 */
export async function mergeFlowAliases(
  db: Database,
  projectId: string,
  flowId: string,
  aliases: Record<string, string>,
): Promise<{ flow: FlowSummary; changes: AliasChange[] }> {
  const entries = Object.entries(aliases);
  const specs = referenceSpecs(entries.map(([alias, target]) => [`aliases.${alias}`, target]));
  const resolved = await resolveImageRefs(db, { projectId }, specs, { flowId });
  const missing: FieldError[] = entries.flatMap(([alias, target], index) =>
    resolved[index] ? [] : [{ field: `aliases.${alias}`, message: `${target} names no image of this project` }],
  );
  if (missing.length > 0) {
    throw new AppError("IMAGE_NOT_FOUND", missing.map((error) => `${error.field}: ${error.message}`).join("; "), {
      errors: missing,
    });
  }
  const targets = entries.flatMap(([alias], index) => {
    const resolution = resolved[index];
    return resolution ? [{ alias, imageId: resolution.image.id }] : [];
  });
  const writes = flowAliasStatements(db, projectId, flowId, targets);
  const [lock, ...rest] = writes.statements;
  if (!lock) throw new Error("Flow alias statements start with the alias lock");
  const results = await db.batch([lock, ...rest, db.execute<FlowRow>(flowSummaryQuery({ projectId }, flowId))]);
  const summary = (results.at(-1) as { rows: FlowRow[] }).rows[0];
  if (!summary) throw new Error("A flow given aliases has no row");
  return { flow: toFlowSummary(summary), changes: writes.changes(results.slice(0, writes.statements.length)) };
}

/** Removes one alias of the flow; 404 FLOW_NOT_FOUND when the flow has no such alias. */
export async function removeFlowAlias(db: Database, projectId: string, flowId: string, alias: string): Promise<AliasChange> {
  const [removed] = await db
    .execute<{ image_id: string }>(sql`
    delete from image_aliases where project_id = ${projectId} and flow_id = ${flowId} and alias = ${alias}
    returning image_id`)
    .then((result) => result.rows);
  if (!removed) throw new AppError("FLOW_NOT_FOUND", `This project has no flow ${flowId} with the alias ${alias}`);
  return { alias, scope: "flow", flowId, fromImageId: removed.image_id, toImageId: null };
}

/** What deleting a flow did; the deleted images' objects are the caller's to delete (after the response). */
export interface DeletedFlow {
  generationIds: string[];
  deletedImages: { id: string; storageKey: string }[];
  /** Images kept because an alias named them, now outside any flow. */
  imagesKept: number;
}

interface DeletedFlowRow extends Record<string, unknown> {
  generation_ids: string[];
  deleted_images: { id: string; storageKey: string }[];
  images_kept: number;
  flow_rows: number;
}

/**
 * Deletes a flow in one transaction: its generations are soft-deleted; its live images are
 * soft-deleted unless an alias outside the flow names them (a project alias, or another flow's),
 * in which case they leave the flow (flow_id null) and stay; its row goes, and its flow aliases with it (cascade). Under the alias lock, so no alias
 * appears on an image while it is judged. 404 FLOW_NOT_FOUND when the project has nothing of it.
 */
export async function deleteFlowRows(db: Database, projectId: string, flowId: string): Promise<DeletedFlow> {
  const [, result] = await db.batch([
    aliasLockStatement(db, projectId),
    db.execute<DeletedFlowRow>(sql`
      with flow_images as (
        -- The flow's own aliases go with it, so only an alias outside it keeps an image.
        select i.id, exists (
                 select 1 from image_aliases a
                 where a.image_id = i.id and (a.flow_id is null or a.flow_id <> ${flowId})
               ) as aliased
        from images i where i.project_id = ${projectId} and i.flow_id = ${flowId} and i.deleted_at is null
      ),
      generations_deleted as (
        update generations set deleted_at = now(), updated_at = now()
        where project_id = ${projectId} and flow_id = ${flowId} and deleted_at is null
        returning id
      ),
      images_deleted as (
        update images set deleted_at = now(), updated_at = now()
        where id in (select id from flow_images where not aliased)
        returning id, storage_key
      ),
      images_kept as (
        update images set flow_id = null, updated_at = now()
        where id in (select id from flow_images where aliased)
        returning id
      ),
      flow_row as (delete from flows where project_id = ${projectId} and id = ${flowId} returning id)
      select (select coalesce(json_agg(id), '[]') from generations_deleted) as generation_ids,
             (select coalesce(json_agg(json_build_object('id', id, 'storageKey', storage_key)), '[]') from images_deleted)
               as deleted_images,
             (select count(*)::int from images_kept) as images_kept,
             (select count(*)::int from flow_row) as flow_rows`),
  ]);
  const row = result.rows[0];
  if (!row || (row.generation_ids.length === 0 && row.deleted_images.length === 0 && !row.images_kept && !row.flow_rows)) {
    throw new AppError("FLOW_NOT_FOUND", `This project has no flow ${flowId}`);
  }
  return { generationIds: row.generation_ids, deletedImages: row.deleted_images, imagesKept: Number(row.images_kept) };
}
