import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { loadConfig } from "../../src/config";
import { images } from "../../src/db/schema";
import { encodeImage } from "../../src/images/codec";
import { createModels } from "../../src/providers";
import type { StoredReference } from "../../src/services/references";
import { createObjectStore } from "../../src/storage";
import { testEnv } from "./app";
import { withDb } from "./fixtures";
import { GEMINI_ENV } from "./generation";
import { formWith, upload } from "./images";

/** The models the Worker builds with a Gemini key: the Gemini adapters, served by the fake. */
export const geminiModels = () => createModels(loadConfig({ ...testEnv, ...GEMINI_ENV } as Env).gemini);
/** The models the Worker builds without a key: the offline preview and the template enhancer. */
export const offlineModels = () => createModels(loadConfig(testEnv).gemini);
/** The test stack's object storage, as the Worker reaches it. */
export const testStore = () => createObjectStore(loadConfig(testEnv).storage);

/**
 * Uploads an image through POST /api/upload and returns it as a reference to it would be
 * resolved: its row (with the sha256 stored for it), and the alias it is named by.
 */
export async function uploadReference(
  key: string,
  bytes: Uint8Array,
  name: string,
  alias: string | null = null,
): Promise<StoredReference & { image: typeof images.$inferSelect }> {
  const { response, data } = await upload(key, formWith(bytes, name));
  expect(response.status, await response.clone().text()).toBe(201);
  const id = data?.id ?? "";
  const [row] = await withDb((db) => db.select().from(images).where(eq(images.id, id)));
  if (!row) throw new Error(`no image row for upload ${id}`);
  return { alias, image: row };
}

/** A solid-colour PNG, so a test can find its pixels in a picture. */
export async function solidPng(width: number, height: number, [r, g, b]: [number, number, number]): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([r, g, b, 255], i);
  return (await encodeImage({ data, width, height }, "png")).bytes;
}
