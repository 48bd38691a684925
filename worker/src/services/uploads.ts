import type { Database } from "../db/client";
import { FILE_EXTENSIONS } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import type { ImageHeader } from "../images/inspect";
import { searchText } from "../images/search-text";
import { sanitizeFilename, storageKey } from "../images/storage-key";
import { aspectRatioOf } from "../images/validate-upload";
import type { ProjectCaller } from "../lib/access-types";
import type { ObjectStore } from "../storage";
import type { Defer } from "../storage/abandoned-write";
import { storeImage } from "./image-store";
import { insertImage } from "./images";

export interface UploadRequest {
  bytes: Uint8Array;
  /** What the inspector read from the bytes (validate-upload.ts): the file's real type and size. */
  header: ImageHeader;
  category: "uploads" | "references";
  /** The user's name for the file, kept (sanitized) for Content-Disposition only. */
  filename: string;
}

export interface StoredUpload {
  id: string;
  storageKey: string;
  aspectRatio: string;
  sha256: string;
  filename: string | null;
  createdAt: Date;
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
  const createdAt = await storeImage(
    deps,
    { ...record, body: bytes, metadata: { sha256, ...(filename ? { filename } : {}) } },
    () => insertImage(deps.db, { ...record, id, originalFilename: filename, aspectRatio, searchText: searchText(filename) }),
  );
  return { id, storageKey: key, aspectRatio, sha256, filename, createdAt };
}
