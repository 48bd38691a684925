import type { Config } from "../config";
import type { ObjectStore } from "./object-store";
import { createR2ObjectStore } from "./r2-object-store";
import { createS3ObjectStore } from "./s3-object-store";

/** Picks the storage adapter the configuration names. */
export function createObjectStore(storage: Config["storage"]): ObjectStore {
  return storage.driver === "r2" ? createR2ObjectStore(storage.bucket) : createS3ObjectStore(storage.s3);
}

export type { ObjectStore } from "./object-store";
