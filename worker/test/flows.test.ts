import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Database } from "../src/db/client";
import { generations } from "../src/db/schema";
import { offsetListEnvelope, offsetPagination } from "../src/lib/openapi";
import { FlowSchema, toV1Flow } from "../src/routes/shared/v1-schemas";
import { aliasWriteStatements } from "../src/services/aliases";
import { deleteFlowRows, getFlow, listFlows, mergeFlowAliases, removeFlowAlias } from "../src/services/flows";
import { createProject, insertImageRow, insertKey, type TestProject, withDb } from "./support/fixtures";

async function insertGeneration(db: Database, scope: TestProject, keyId: string, flowId: string | null): Promise<string> {
  const id = crypto.randomUUID();
  await db.insert(generations).values({
    id,
    projectId: scope.project.id,
    apiKeyId: keyId,
    status: "succeeded",
    originalPrompt: "a cat",
    aspectRatio: "1:1",
    outputFormat: "png",
    flowId,
  });
  return id;
}

/** A project with a key, and a flow of one generation and its image: used once, so lazy (no flows row). */
async function projectWithLazyFlow(db: Database) {
  const scope = await createProject(db);
  const key = await insertKey(db, { type: "project", scope });
  const flowId = crypto.randomUUID();
  const generationId = await insertGeneration(db, scope, key.id, flowId);
  const imageId = await insertImageRow(db, scope, "generated", { flowId });
  return { scope, key, flowId, generationId, imageId };
}

async function setProjectAlias(db: Database, projectId: string, imageId: string, alias: string): Promise<void> {
  const [lock, ...rest] = aliasWriteStatements(db, { projectId, imageId, alias }).statements;
  if (lock) await db.batch([lock, ...rest]);
}

async function liveness(db: Database, table: "images" | "generations", ids: string[]) {
  const result = await db.execute<{ id: string; deleted: boolean; flow_id: string | null }>(
    sql`select id, deleted_at is not null as deleted, flow_id from ${sql.identifier(table)} where id in ${ids}`,
  );
  return Object.fromEntries(result.rows.map((row) => [row.id, { deleted: row.deleted, flowId: row.flow_id }]));
}

describe("flows", () => {
  it("open a lazy flow by id from its generations and images, and no other project's", async () => {
    await withDb(async (db) => {
      const { scope, flowId } = await projectWithLazyFlow(db);
      await insertImageRow(db, scope, "uploads", { flowId, deletedAt: new Date() });

      const flow = await getFlow(db, scope.project.id, flowId);
      expect(flow).toMatchObject({ id: flowId, aliases: {}, generationCount: 1, imageCount: 1, meta: {} });
      expect(await listFlows(db, scope.project.id, { limit: 20, offset: 0 })).toEqual({ flows: [], total: 0 });

      const other = await createProject(db);
      expect(await getFlow(db, other.project.id, flowId)).toBeNull();
      expect(await getFlow(db, scope.project.id, crypto.randomUUID())).toBeNull();
    });
  });

  it("merge aliases, overwriting the ones they have, and list with the total and whether more follow", async () => {
    await withDb(async (db) => {
      const { scope, flowId, imageId } = await projectWithLazyFlow(db);
      const projectId = scope.project.id;
      const upload = await insertImageRow(db, scope, "uploads");
      await setProjectAlias(db, projectId, upload, "@logo");

      const merged = await mergeFlowAliases(db, projectId, flowId, { "@hero": imageId, "@brand": "@logo" });
      expect(merged.flow).toMatchObject({ id: flowId, aliases: { "@hero": imageId, "@brand": upload }, generationCount: 1 });
      expect(merged.changes).toEqual(
        expect.arrayContaining([{ alias: "@hero", scope: "flow", flowId, fromImageId: null, toImageId: imageId }]),
      );

      // "@hero" now names the upload (through @brand, a flow alias of the flow); "@brand" is kept.
      const again = await mergeFlowAliases(db, projectId, flowId, { "@hero": "@brand" });
      expect(again.flow.aliases).toEqual({ "@hero": upload, "@brand": upload });
      expect(again.changes).toEqual([{ alias: "@hero", scope: "flow", flowId, fromImageId: imageId, toImageId: upload }]);

      // Merging wrote the lazy flow's row: the flow is listed now.
      const secondFlow = crypto.randomUUID();
      await mergeFlowAliases(db, projectId, secondFlow, { "@only": upload });
      const page = await listFlows(db, projectId, { limit: 1, offset: 0 });
      expect(page.total).toBe(2);
      expect(page.flows.map((flow) => flow.id)).toEqual([secondFlow]);
      const body = { success: true, data: page.flows.map(toV1Flow), pagination: offsetPagination(page.total, 1, 0) };
      expect(offsetListEnvelope(FlowSchema).parse(body).pagination).toEqual({ total: 2, limit: 1, offset: 0, hasMore: true });
      const last = await listFlows(db, projectId, { limit: 1, offset: 1 });
      expect(last.flows.map((flow) => flow.id)).toEqual([flowId]);
      expect(offsetPagination(last.total, 1, 1).hasMore).toBe(false);
      expect(await listFlows(db, projectId, { limit: 1, offset: 5 })).toEqual({ flows: [], total: 2 });
    });
  });

  it("get their row when their id is used again, touched on every use", async () => {
    await withDb(async (db) => {
      const { scope, flowId, imageId } = await projectWithLazyFlow(db);
      const use = async () => {
        const [statement] = aliasWriteStatements(db, { projectId: scope.project.id, imageId, flow: { id: flowId } }).statements;
        if (statement) await db.batch([statement]);
        return (await getFlow(db, scope.project.id, flowId))?.updatedAt;
      };
      const first = await use();
      const { flows, total } = await listFlows(db, scope.project.id, { limit: 20, offset: 0 });
      expect({ ids: flows.map((flow) => flow.id), total }).toEqual({ ids: [flowId], total: 1 });
      expect((await use())?.getTime()).toBeGreaterThan(first?.getTime() ?? Number.POSITIVE_INFINITY);
    });
  });

  it("hold meta to 4 KiB of UTF-8 JSON", () => {
    const meta = FlowSchema.shape.meta;
    expect(meta.safeParse({ note: "e".repeat(4000) }).success).toBe(true);
    // 2100 characters, 4200 bytes: the limit counts bytes.
    expect(meta.safeParse({ note: "é".repeat(2100) }).success).toBe(false);
  });

  it("refuse an alias target outside the project with IMAGE_NOT_FOUND naming the alias, and a bad alias with ALIAS_FORMAT_CHECK", async () => {
    await withDb(async (db) => {
      const { scope, flowId, imageId } = await projectWithLazyFlow(db);
      const other = await createProject(db);
      const theirs = await insertImageRow(db, other, "uploads");

      await expect(mergeFlowAliases(db, scope.project.id, flowId, { "@ok": imageId, "@theirs": theirs })).rejects.toMatchObject({
        code: "IMAGE_NOT_FOUND",
        errors: [{ field: "aliases.@theirs", message: `${theirs} names no image of this project` }],
      });
      await expect(mergeFlowAliases(db, scope.project.id, flowId, { "@last": imageId })).rejects.toMatchObject({
        code: "ALIAS_FORMAT_CHECK",
        errors: [expect.objectContaining({ field: "aliases.@last" })],
      });
      // Nothing was written: the flow is still lazy and has no alias.
      expect(await getFlow(db, scope.project.id, flowId)).toMatchObject({ aliases: {} });
      expect(await listFlows(db, scope.project.id, { limit: 20, offset: 0 })).toEqual({ flows: [], total: 0 });
    });
  });

  it("remove one alias, and answer FLOW_NOT_FOUND for an alias the flow does not have", async () => {
    await withDb(async (db) => {
      const { scope, flowId, imageId } = await projectWithLazyFlow(db);
      await mergeFlowAliases(db, scope.project.id, flowId, { "@hero": imageId, "@keep": imageId });

      expect(await removeFlowAlias(db, scope.project.id, flowId, "@hero")).toEqual({
        alias: "@hero",
        scope: "flow",
        flowId,
        fromImageId: imageId,
        toImageId: null,
      });
      expect((await getFlow(db, scope.project.id, flowId))?.aliases).toEqual({ "@keep": imageId });
      await expect(removeFlowAlias(db, scope.project.id, flowId, "@hero")).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
      const other = await createProject(db);
      await expect(removeFlowAlias(db, other.project.id, flowId, "@keep")).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
    });
  });

  it("delete their generations and the images no alias outside the flow names; project-aliased images stay, outside any flow", async () => {
    await withDb(async (db) => {
      const { scope, key, flowId, generationId, imageId } = await projectWithLazyFlow(db);
      const projectId = scope.project.id;
      const secondGeneration = await insertGeneration(db, scope, key.id, flowId);
      const projectAliased = await insertImageRow(db, scope, "generated", { flowId });
      const flowAliased = await insertImageRow(db, scope, "uploads", { flowId });
      const outside = await insertImageRow(db, scope, "generated");
      await setProjectAlias(db, projectId, projectAliased, "@kept");
      await mergeFlowAliases(db, projectId, flowId, { "@in-flow": flowAliased });

      const other = await createProject(db);
      await expect(deleteFlowRows(db, other.project.id, flowId)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });

      const deleted = await deleteFlowRows(db, projectId, flowId);
      expect(deleted.generationIds.sort()).toEqual([generationId, secondGeneration].sort());
      // An image named only by one of the flow's own aliases loses that alias with the flow: it goes too.
      expect(deleted.deletedImages.map((image) => image.id).sort()).toEqual([imageId, flowAliased].sort());
      expect(deleted.deletedImages).toContainEqual({ id: imageId, storageKey: expect.stringContaining(`/generated/${imageId}`) });
      expect(deleted.imagesKept).toBe(1);

      expect(await liveness(db, "images", [imageId, projectAliased, flowAliased, outside])).toEqual({
        [imageId]: { deleted: true, flowId },
        [projectAliased]: { deleted: false, flowId: null },
        [flowAliased]: { deleted: true, flowId },
        [outside]: { deleted: false, flowId: null },
      });
      expect(await liveness(db, "generations", [generationId, secondGeneration])).toEqual({
        [generationId]: { deleted: true, flowId },
        [secondGeneration]: { deleted: true, flowId },
      });
      // The flow's row and its aliases are gone; the project alias stays.
      const aliases = await db.execute<{ alias: string }>(sql`select alias from image_aliases where project_id = ${projectId}`);
      expect(aliases.rows).toEqual([{ alias: "@kept" }]);
      expect(await getFlow(db, projectId, flowId)).toBeNull();
      await expect(deleteFlowRows(db, projectId, flowId)).rejects.toMatchObject({ code: "FLOW_NOT_FOUND" });
    });
  });
});
