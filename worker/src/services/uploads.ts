import type { Database } from "../db/client";
import { images } from "../db/schema";
import { FILE_EXTENSIONS } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import type { ImageHeader } from "../images/inspect";
import { searchText } from "../images/search-text";
import { sanitizeFilename, storageKey } from "../images/storage-key";
import { aspectRatioOf } from "../images/validate-upload";
import type { ProjectCaller } from "../lib/access-types";
import type { ObjectStore } from "../storage";
import type { Defer } from "../storage/abandoned-write";
import { type AliasChange, aliasWriteStatements, rethrowAliasConflict } from "./aliases";
import { storeImage } from "./image-store";
import { insertImage } from "./images";

export interface UploadRequest {
  bytes: Uint8Array;
  /** What the inspector read from the bytes (validate-upload.ts): the file's real type and size. */
  header: ImageHeader;
  category: "uploads" | "references";
  /** The user's name for the file, kept (sanitized) for Content-Disposition only. */
  filename: string;
  /** Where a v1 upload goes: its flow, aliases and meta, written in the row's transaction. */
  placement?: UploadPlacement;
}

export interface UploadPlacement {
  /** The flow the image belongs to; null outside any flow. */
  flowId: string | null;
  /** Writes (or touches) the flow's row: a flow named by the client, or one given a flow alias. */
  writeFlow: boolean;
  /** The project alias, moved to this image from whichever had it. */
  alias?: string;
  /** An alias within the flow: 409 ALIAS_CONFLICT when the flow gives it to another live image. */
  flowAlias?: string;
  meta?: Record<string, unknown>;
}

export interface StoredUpload {
  id: string;
  storageKey: string;
  aspectRatio: string;
  sha256: string;
  filename: string | null;
  createdAt: Date;
  /** What the placement's aliases changed, for the audit trail; none without a placement. */
  aliasChanges: AliasChange[];
}

/** Stores an uploaded file under a server-made name (`{org}/{project}/{category}/{uuid}.{ext}`). */
export async function storeUpload(
  deps: { db: Database; store: ObjectStore; defer: Defer },
  caller: ProjectCaller,
  upload: UploadRequest,
): Promise<StoredUpload> {
  const { bytes, header, category } = upload;
  const id = crypto.randomUUID();
  const filename = sanitizeFilename(upload.filename);
  const key = storageKey({
    organizationSlug: caller.organization.slug,
    projectSlug: caller.project.slug,
    category,
    id,
    filename: null,
    extension: FILE_EXTENSIONS[header.format],
  });
  const sha256 = await sha256Hex(bytes);
  const aspectRatio = aspectRatioOf(header.width, header.height);
  const record = {
    projectId: caller.project.id,
    category,
    storageKey: key,
    mimeType: header.mimeType,
    bytes: bytes.byteLength,
    width: header.width,
    height: header.height,
    sha256,
  };
  const { placement } = upload;
  const row = {
    ...record,
    id,
    originalFilename: filename,
    aspectRatio,
    searchText: searchText(filename),
    ...(placement ? { flowId: placement.flowId, meta: placement.meta ?? {} } : {}),
  };
  const { createdAt, aliasChanges } = await storeImage(
    deps,
    { ...record, body: bytes, metadata: { sha256, ...(filename ? { filename } : {}) } },
    async () =>
      placement ? insertPlacedImage(deps.db, row, placement) : { createdAt: await insertImage(deps.db, row), aliasChanges: [] },
  );
  return { id, storageKey: key, aspectRatio, sha256, filename, createdAt, aliasChanges };
}

/** Inserts the image row with its flow and aliases in one transaction; returns when it was created, and what the aliases changed. */
async function insertPlacedImage(
  db: Database,
  row: typeof images.$inferInsert & { id: string },
  placement: UploadPlacement,
): Promise<{ createdAt: Date; aliasChanges: AliasChange[] }> {
  const { flowId } = placement;
  const writes = aliasWriteStatements(db, {
    projectId: row.projectId,
    imageId: row.id,
    alias: placement.alias,
    flow: flowId && placement.writeFlow ? { id: flowId, alias: placement.flowAlias } : undefined,
  });
  const insert = db.insert(images).values(row).returning({ createdAt: images.createdAt });
  const [inserted, ...results] = await db.batch([insert, ...writes.statements]).catch(rethrowAliasConflict);
  const createdAt = inserted[0]?.createdAt;
  if (!createdAt) throw new Error("The image row was not written");
  return { createdAt, aliasChanges: writes.changes(results) };
}
