/**
 * Image aliases: resolving references (ids, technical, flow and project aliases) to images, and
 * the statements that give, move and remove aliases inside a caller's batch.
 */
import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { DrizzleQueryError } from "drizzle-orm/errors";
import type { Database } from "../db/client";
import { flows } from "../db/schema";
import { checkAssignableAlias, parseReferenceSpec, type ReferenceSpec, technicalAlias } from "../domain/aliases";
import { AppError, type FieldError } from "../lib/errors";

/** How a reference found its image: by id, or through a technical, flow or project alias. */
export type ResolutionScope = "id" | "technical" | "flow" | "project";

/** The image a reference resolved to: enough to read it from storage and to describe it. */
export interface ResolvedImage {
  id: string;
  projectId: string;
  flowId: string | null;
  category: "generated" | "uploads" | "references";
  storageKey: string;
  mimeType: string;
  bytes: number;
  width: number;
  height: number;
  sha256: string;
  generationId: string | null;
  createdAt: Date;
}

export interface Resolution {
  /** The reference as the client wrote it. */
  spec: string;
  /** The alias it resolved through; null for an id. */
  alias: string | null;
  scope: ResolutionScope;
  /** The flow a technical or flow alias was resolved in; null for ids and project aliases. */
  flowId: string | null;
  image: ResolvedImage;
}

/**
 * Whose images a lookup may see: a project, or the project of the key with this hash, so that
 * the lookup can run alongside the key's authentication (its result is used once the key is
 * authorized; a master key's hash has no project and sees nothing).
 */
export type ImageOwner = { projectId: string } | { keyHash: string };

export interface ResolutionContext {
  /** The flow technical and flow aliases live in; null outside any flow. */
  flowId: string | null;
  /** Technical aliases see only images created before this: a regeneration never takes its own output as @last. */
  before?: Date;
}

interface ResolutionRow extends Record<string, unknown> {
  ord: number;
  scope: ResolutionScope | null;
  alias: string | null;
  alias_flow_id: string | null;
  id: string | null;
  project_id: string;
  flow_id: string | null;
  category: ResolvedImage["category"];
  storage_key: string;
  mime_type: string;
  bytes: number;
  width: number;
  height: number;
  sha256: string;
  generation_id: string | null;
  created_at: string;
}

/** The owner's project id as a subquery, so a read can run alongside the key check (see ImageOwner). */
export const ownerProject = (owner: ImageOwner): SQL =>
  "projectId" in owner
    ? sql`select id from projects where id = ${owner.projectId}`
    : sql`select project_id as id from api_keys where key_hash = ${owner.keyHash} and project_id is not null`;

const IMAGE_COLUMNS = sql.raw(
  "i.id, i.project_id, i.flow_id, i.category, i.storage_key, i.mime_type, i.bytes, i.width, i.height, i.sha256, i.generation_id, i.created_at",
);

/** The technical aliases: which images of the flow each looks among, and which end it takes. */
const TECHNICAL_CHOICE = {
  "@last": { categories: sql`i.category = 'generated'`, order: sql`i.created_at desc, i.id desc` },
  "@first": { categories: sql`i.category = 'generated'`, order: sql`i.created_at, i.id` },
  "@upload": { categories: sql`i.category in ('uploads', 'references')`, order: sql`i.created_at desc, i.id desc` },
} as const;

/**
 * Resolves references to live images of the owner's project, in one statement, in the order
 * given: an id directly; an alias as a technical alias of the flow, else the flow's alias, else
 * the project's. Each is null when nothing matches, including another project's image, alias or
 * flow, which are never seen.
 */
export async function resolveImageRefs(
  db: Database,
  owner: ImageOwner,
  specs: ReferenceSpec[],
  context: ResolutionContext,
): Promise<(Resolution | null)[]> {
  if (specs.length === 0) return [];
  const rows = specs.map((spec, index) => {
    const id = "id" in spec ? spec.id : null;
    const alias = "alias" in spec ? spec.alias : null;
    const technical = alias ? (technicalAlias(alias) ?? null) : null;
    return sql`(${index}::int, ${id}::uuid, ${alias}::text, ${technical}::text)`;
  });
  const flowId = context.flowId;
  const before = context.before ? sql`and i.created_at < ${context.before.toISOString()}::timestamptz` : sql``;
  const technicalBranches = Object.entries(TECHNICAL_CHOICE).map(
    ([name, choice]) => sql`
      (select 1 as rank, 'technical' as scope, s.alias, ${flowId}::uuid as alias_flow_id, ${IMAGE_COLUMNS}
       from images i
       where s.technical = ${name} and i.project_id = o.id and i.flow_id = ${flowId}::uuid and i.deleted_at is null
         and ${choice.categories} ${before}
       order by ${choice.order} limit 1)`,
  );
  const result = await db.execute<ResolutionRow>(sql`
    with owner as (${ownerProject(owner)}),
    specs (ord, image_id, alias, technical) as (values ${sql.join(rows, sql`, `)})
    select s.ord, r.*
    from specs s
    left join owner o on true
    left join lateral (
      select * from (
        (select 0 as rank, 'id' as scope, null::text as alias, null::uuid as alias_flow_id, ${IMAGE_COLUMNS}
         from images i
         where i.id = s.image_id and i.project_id = o.id and i.deleted_at is null)
        union all ${sql.join(technicalBranches, sql` union all `)}
        union all
        (select 2, 'flow', a.alias, a.flow_id, ${IMAGE_COLUMNS}
         from image_aliases a join images i on i.id = a.image_id
         where s.technical is null and a.project_id = o.id and a.flow_id = ${flowId}::uuid and a.alias = s.alias
           and i.project_id = o.id and i.deleted_at is null)
        union all
        (select 3, 'project', a.alias, null::uuid, ${IMAGE_COLUMNS}
         from image_aliases a join images i on i.id = a.image_id
         where s.technical is null and a.project_id = o.id and a.flow_id is null and a.alias = s.alias
           and i.project_id = o.id and i.deleted_at is null)
      ) candidates
      order by rank
      limit 1
    ) r on true
    order by s.ord
  `);
  return result.rows.map((row) => {
    const spec = specs[row.ord];
    if (!row.scope || !row.id || !spec) return null;
    return {
      spec: spec.spec,
      alias: row.alias,
      scope: row.scope,
      flowId: row.alias_flow_id,
      image: {
        id: row.id,
        projectId: row.project_id,
        flowId: row.flow_id,
        category: row.category,
        storageKey: row.storage_key,
        mimeType: row.mime_type,
        bytes: Number(row.bytes),
        width: Number(row.width),
        height: Number(row.height),
        sha256: row.sha256,
        generationId: row.generation_id,
        createdAt: new Date(row.created_at),
      },
    };
  });
}

/**
 * References as written (`[field, value]` pairs), parsed; 400 ALIAS_FORMAT_CHECK naming each
 * field whose value is neither an image id nor an alias.
 */
export function referenceSpecs(entries: [field: string, value: string][]): ReferenceSpec[] {
  const errors: FieldError[] = [];
  const specs = entries.flatMap(([field, value]) => {
    const spec = parseReferenceSpec(value);
    if (!spec) errors.push({ field, message: `"${value}" is neither an image id nor an @alias` });
    return spec ? [spec] : [];
  });
  if (errors.length > 0) throw aliasFormatError(errors);
  return specs;
}

/** 400 ALIAS_FORMAT_CHECK when any of these aliases may not be given to an image (`[field, alias]` pairs). */
export function assertAssignableAliases(aliases: [field: string, alias: string][]): void {
  const errors = aliases.flatMap(([field, alias]) => checkAssignableAlias(alias, field) ?? []);
  if (errors.length > 0) throw aliasFormatError(errors);
}

function aliasFormatError(errors: FieldError[]): AppError {
  return new AppError("ALIAS_FORMAT_CHECK", errors.map((error) => `${error.field}: ${error.message}`).join("; "), { errors });
}

/**
 * Writes a flow's row, or touches it (`updated_at`) when it exists: on every use of a flow id,
 * and before a flow alias (its foreign key). Here rather than in flows.ts, which builds on this
 * module, because alias writes need it.
 */
export function flowUpsertStatement(db: Database, projectId: string, flowId: string): BatchItem<"pg"> {
  return db
    .insert(flows)
    .values({ projectId, id: flowId })
    .onConflictDoUpdate({ target: [flows.projectId, flows.id], set: { updatedAt: sql`now()` } });
}

/** Serializes alias changes within a project, for the transaction it opens (released at commit). */
export function aliasLockStatement(db: Database, projectId: string): BatchItem<"pg"> {
  return db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`banatie.alias:${projectId}`}, 0))`);
}

/** What an alias write changed, for the audit trail (`alias.changed`); a null image is none. */
export interface AliasChange {
  alias: string;
  scope: "project" | "flow";
  flowId: string | null;
  fromImageId: string | null;
  toImageId: string | null;
}

interface AliasChangeRow extends Record<string, unknown> {
  alias: string;
  flow_id: string | null;
  from_image_id: string | null;
  to_image_id: string | null;
}

export interface AliasWrite {
  projectId: string;
  imageId: string;
  /** The project alias to give the image, moving it from whichever image has it; null removes the image's. */
  alias?: string | null;
  /**
   * The flow the image is used in: its flows row is written (or touched), and `alias`, when set,
   * is given within the flow: 409 ALIAS_CONFLICT if the flow already gives it to another live image.
   */
  flow?: { id: string; alias?: string };
  /** Removes every alias, project and flow, that points at the image (it is being deleted). */
  clear?: boolean;
}

/** Alias statements of one batch, and how to read what they changed from the batch's results. */
export interface AliasWrites {
  /** Put these in the batch, in this order, after any statement that writes the image row. */
  statements: BatchItem<"pg">[];
  /** What changed, from the results of `statements` (the same slice of the batch's results). */
  changes(results: readonly unknown[]): AliasChange[];
}

/** Marks the failing cast that refuses a taken flow alias, so the caller's batch rolls back. */
const ALIAS_CONFLICT_MARK = "banatie:alias-conflict:";

/**
 * The statements that apply an alias write, for the caller's batch (one transaction): a
 * per-project advisory lock first, so alias changes in a project happen one at a time (no
 * deadlock, no lost move, no extra round trip), then the writes, each returning what it changed.
 * Aliases are checked first (400 ALIAS_FORMAT_CHECK). Run the batch with `.catch(rethrowAliasConflict)`.
 */
export function aliasWriteStatements(db: Database, write: AliasWrite): AliasWrites {
  const { projectId, imageId } = write;
  const given: [string, string][] = [];
  if (write.alias) given.push(["alias", write.alias]);
  if (write.flow?.alias) given.push(["flowAlias", write.flow.alias]);
  assertAssignableAliases(given);

  const changing: SQL[] = [];
  if (write.alias !== undefined) {
    // The image's other project alias goes first: an image holds one, and the upsert cannot replace it.
    changing.push(sql`
      delete from image_aliases
      where project_id = ${projectId} and flow_id is null and image_id = ${imageId}
        ${write.alias === null ? sql`` : sql`and alias <> ${write.alias}`}
      returning alias, flow_id, image_id as from_image_id, null::uuid as to_image_id`);
    if (write.alias !== null) changing.push(aliasMove(projectId, null, imageId, write.alias));
  }
  if (write.flow?.alias) changing.push(flowAliasInsert(projectId, write.flow.id, imageId, write.flow.alias));
  if (write.clear) {
    changing.push(sql`
      delete from image_aliases where project_id = ${projectId} and image_id = ${imageId}
      returning alias, flow_id, image_id as from_image_id, null::uuid as to_image_id`);
  }

  const lock = changing.length > 0 ? [aliasLockStatement(db, projectId)] : [];
  const flowRow = write.flow ? [flowUpsertStatement(db, projectId, write.flow.id)] : [];
  const writes = changing.map((statement) => db.execute<AliasChangeRow>(statement));
  const skipped = lock.length + flowRow.length;
  return {
    statements: [...lock, ...flowRow, ...writes],
    changes: (results) => results.slice(skipped).flatMap((result) => toAliasChanges(result as { rows: AliasChangeRow[] })),
  };
}

/**
 * Gives the alias to the image in its scope (the project's when `flowId` is null), taking it from
 * whichever image had it: the last writer wins. Returns the image it named before.
 */
function aliasMove(projectId: string, flowId: string | null, imageId: string, alias: string): SQL {
  const inScope = flowId === null ? sql`flow_id is null` : sql`flow_id = ${flowId}`;
  return sql`
    with previous as (
      select image_id from image_aliases where project_id = ${projectId} and ${inScope} and alias = ${alias}
    ),
    moved as (
      insert into image_aliases (project_id, flow_id, alias, image_id)
      select project_id, ${flowId}::uuid, ${alias}, id from images where id = ${imageId} and project_id = ${projectId} and deleted_at is null
      on conflict (project_id, ${flowId === null ? sql`alias) where flow_id is null` : sql`flow_id, alias) where flow_id is not null`}
      do update set image_id = excluded.image_id, updated_at = now()
      returning image_id
    )
    select ${alias}::text as alias, ${flowId}::uuid as flow_id, (select image_id from previous) as from_image_id,
           coalesce((select image_id from moved), (select image_id from previous)) as to_image_id`;
}

/**
 * The statements that give a flow these aliases (`PUT /flows/{id}/aliases`), overwriting the
 * ones it has: the lock, the flow's row (written if the flow was lazy), then one move per alias.
 */
export function flowAliasStatements(
  db: Database,
  projectId: string,
  flowId: string,
  targets: { alias: string; imageId: string }[],
): AliasWrites {
  assertAssignableAliases(targets.map(({ alias }) => [`aliases.${alias}`, alias]));
  const writes = targets.map(({ alias, imageId }) => db.execute<AliasChangeRow>(aliasMove(projectId, flowId, imageId, alias)));
  return {
    statements: [aliasLockStatement(db, projectId), flowUpsertStatement(db, projectId, flowId), ...writes],
    changes: (results) => results.slice(2).flatMap((result) => toAliasChanges(result as { rows: AliasChangeRow[] })),
  };
}

/**
 * Gives a flow alias to the image unless the flow gives it to another live image: then a cast
 * that cannot succeed fails the statement (409 through rethrowAliasConflict), rolling the whole
 * batch back. The cast's text depends on the rows, so PostgreSQL cannot evaluate it when planning.
 */
function flowAliasInsert(projectId: string, flowId: string, imageId: string, alias: string): SQL {
  return sql`
    with taken as (
      select a.image_id from image_aliases a join images i on i.id = a.image_id
      where a.project_id = ${projectId} and a.flow_id = ${flowId} and a.alias = ${alias}
        and a.image_id <> ${imageId} and i.deleted_at is null
    ),
    given as (
      insert into image_aliases (project_id, flow_id, alias, image_id)
      select project_id, ${flowId}, ${alias}, id from images
      where id = ${imageId} and project_id = ${projectId} and deleted_at is null and not exists (select 1 from taken)
      on conflict (project_id, flow_id, alias) where flow_id is not null
      do update set image_id = excluded.image_id, updated_at = now()
      returning image_id
    )
    select ${alias}::text as alias, ${flowId}::uuid as flow_id, null::uuid as from_image_id,
           (select image_id from given) as to_image_id,
           (select case when count(*) > 0 then (${ALIAS_CONFLICT_MARK} || ${alias} || ':' || count(*))::int end from taken) as conflict`;
}

function toAliasChanges(result: { rows: AliasChangeRow[] }): AliasChange[] {
  return result.rows
    .filter((row) => row.from_image_id !== row.to_image_id)
    .map((row) => ({
      alias: row.alias,
      scope: row.flow_id ? "flow" : "project",
      flowId: row.flow_id,
      fromImageId: row.from_image_id,
      toImageId: row.to_image_id,
    }));
}

/** 409: the flow already gives this alias to another live image. */
function aliasConflict(alias: string): AppError {
  return new AppError("ALIAS_CONFLICT", `${alias} already names another image in this flow`, {
    errors: [{ field: "flowAlias", message: `${alias} is taken in this flow` }],
  });
}

/**
 * 409 ALIAS_CONFLICT when a flow alias about to be given is taken: pass the resolution of the
 * alias in that flow (resolveImageRefs, alongside the request's other reads), so a generation is
 * refused before any model call. The write itself checks again (aliasWriteStatements).
 */
export function assertFlowAliasFree(alias: string, resolution: Resolution | null): void {
  if (resolution?.scope === "flow") throw aliasConflict(alias);
}

/** PostgreSQL's invalid_text_representation: what the refusing cast raises. */
const INVALID_TEXT_REPRESENTATION = "22P02";

/**
 * Rethrows a batch's failure: a flow alias found taken as 409 ALIAS_CONFLICT, naming the alias;
 * anything else unchanged. Only the driver's error is read: drizzle's wrapper quotes the
 * statement's parameters, the mark among them, whatever failed.
 */
export function rethrowAliasConflict(error: unknown): never {
  const driverError = error instanceof DrizzleQueryError ? error.cause : error;
  const { code, message } = (driverError ?? {}) as { code?: unknown; message?: unknown };
  if (code === INVALID_TEXT_REPRESENTATION && typeof message === "string") {
    const alias = new RegExp(`${ALIAS_CONFLICT_MARK}(@[A-Za-z0-9_-]+):\\d+`).exec(message)?.[1];
    if (alias) throw aliasConflict(alias);
  }
  throw error;
}
