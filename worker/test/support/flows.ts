/** Fixtures for flows and aliases: real uploads moved into a flow, generations rows, aliases. */
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config";
import { generations } from "../../src/db/schema";
import { aliasWriteStatements, flowAliasStatements } from "../../src/services/aliases";
import { createS3ObjectStore } from "../../src/storage/s3-object-store";
import { testEnv } from "./app";
import type { TestKey, TestProject } from "./fixtures";
import { withDb } from "./fixtures";
import { formWith, imageFile, upload } from "./images";

/** The test stack's object storage, to see what is really stored. */
export function s3() {
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("s3 expected");
  return createS3ObjectStore(storage.s3);
}

/** A real upload (object in storage), placed in `flowId` when given; its id, URL and storage key. */
export async function uploadInFlow(
  key: string,
  flowId: string | null,
  image: { format?: "png" | "jpeg" | "webp"; width?: number; height?: number; name?: string } = {},
) {
  const bytes = await imageFile(image.format ?? "png", image.width ?? 64, image.height ?? 48);
  const { data } = await upload(key, formWith(bytes, image.name ?? "pic.png"));
  if (!data) throw new Error("upload failed");
  const storageKey = new URL(data.url).pathname.replace(/^\/api\/images\//, "");
  if (flowId) await withDb((db) => db.execute(sql`update images set flow_id = ${flowId} where id = ${data.id}`));
  return { id: data.id, url: data.url, storageKey, bytes };
}

/** A succeeded generation row in the flow (no image of its own). */
export async function insertGenerationRow(scope: TestProject, key: TestKey, flowId: string | null): Promise<string> {
  const id = crypto.randomUUID();
  await withDb((db) =>
    db.insert(generations).values({
      id,
      projectId: scope.project.id,
      apiKeyId: key.id,
      status: "succeeded",
      originalPrompt: "a cat",
      aspectRatio: "1:1",
      outputFormat: "png",
      flowId,
    }),
  );
  return id;
}

/** Gives (moves) a project alias to the image, as the alias service does inside a request's batch. */
export async function setProjectAlias(projectId: string, imageId: string, alias: string): Promise<void> {
  await withDb(async (db) => {
    const [lock, ...rest] = aliasWriteStatements(db, { projectId, imageId, alias }).statements;
    if (lock) await db.batch([lock, ...rest]);
  });
}

/** Gives a flow alias to the image (writing the flow's row). */
export async function setFlowAlias(projectId: string, flowId: string, imageId: string, alias: string): Promise<void> {
  await withDb(async (db) => {
    const [lock, ...rest] = flowAliasStatements(db, projectId, flowId, [{ alias, imageId }]).statements;
    if (lock) await db.batch([lock, ...rest]);
  });
}
