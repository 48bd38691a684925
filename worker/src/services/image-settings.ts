/** A project's transformation presets and watermark, kept on its row. */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { projects } from "../db/schema";
import { DEFAULT_IMAGE_SETTINGS, type ProjectImageSettings } from "../domain/image-settings";

export async function readImageSettings(db: Database, projectId: string): Promise<ProjectImageSettings> {
  const [row] = await db.select({ settings: projects.imageSettings }).from(projects).where(eq(projects.id, projectId));
  return row?.settings ?? DEFAULT_IMAGE_SETTINGS;
}

export async function writeImageSettings(db: Database, projectId: string, settings: ProjectImageSettings) {
  await db.update(projects).set({ imageSettings: settings }).where(eq(projects.id, projectId));
}
