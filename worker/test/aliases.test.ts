import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/client";
import {
  type AliasChange,
  type AliasWrite,
  aliasWriteStatements,
  assertFlowAliasFree,
  type ImageOwner,
  type ResolutionContext,
  referenceSpecs,
  resolveImageRefs,
  rethrowAliasConflict,
} from "../src/services/aliases";
import { createProject, insertImageRow, insertKey, type TestProject, withDb } from "./support/fixtures";

/** Applies one alias write in a batch of its own, as a request would; what it changed. */
async function writeAliases(db: Database, write: AliasWrite): Promise<AliasChange[]> {
  const writes = aliasWriteStatements(db, write);
  const [first, ...rest] = writes.statements as [BatchItem<"pg">, ...BatchItem<"pg">[]];
  const results = await db.batch([first, ...rest]).catch(rethrowAliasConflict);
  return writes.changes(results);
}

/** What each reference resolves to, as `scope:imageId`, or null. */
async function resolve(db: Database, owner: ImageOwner, values: string[], context: ResolutionContext) {
  const specs = referenceSpecs(values.map((value, index) => [`referenceImages.${index}`, value]));
  const resolved = await resolveImageRefs(db, owner, specs, context);
  return resolved.map((resolution) => (resolution ? `${resolution.scope}:${resolution.image.id}` : null));
}

async function projectAliases(db: Database, projectId: string) {
  const result = await db.execute<{ alias: string; image_id: string; flow_id: string | null }>(
    sql`select alias, image_id, flow_id from image_aliases where project_id = ${projectId} order by alias collate "C", flow_id nulls first`,
  );
  return result.rows;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

describe("resolving references", () => {
  let scope: TestProject;
  let flowId: string;
  const images: Record<string, string> = {};

  beforeAll(async () => {
    await withDb(async (db) => {
      scope = await createProject(db);
      flowId = crypto.randomUUID();
      const flow = { flowId };
      images.projectHero = await insertImageRow(db, scope, "uploads");
      images.firstGenerated = await insertImageRow(db, scope, "generated", { ...flow, createdAt: at(1) });
      images.upload = await insertImageRow(db, scope, "uploads", { ...flow, createdAt: at(2) });
      images.flowHero = await insertImageRow(db, scope, "generated", { ...flow, createdAt: at(3) });
      images.reference = await insertImageRow(db, scope, "references", { ...flow, createdAt: at(4) });
      images.deletedGenerated = await insertImageRow(db, scope, "generated", { ...flow, createdAt: at(5), deletedAt: at(6) });
      // Newer, but in no flow: never a technical alias of this one.
      images.outside = await insertImageRow(db, scope, "generated", { createdAt: at(7) });
      await writeAliases(db, { projectId: scope.project.id, imageId: images.projectHero, alias: "@hero" });
      await writeAliases(db, { projectId: scope.project.id, imageId: images.flowHero, flow: { id: flowId, alias: "@hero" } });
    });
  });

  it("finds an alias in the flow before the project, and a technical alias before both", async () => {
    await withDb(async (db) => {
      const owner = { projectId: scope.project.id };
      expect(await resolve(db, owner, ["@hero"], { flowId })).toEqual([`flow:${images.flowHero}`]);
      expect(await resolve(db, owner, ["@hero"], { flowId: null })).toEqual([`project:${images.projectHero}`]);
      expect(await resolve(db, owner, ["@hero"], { flowId: crypto.randomUUID() })).toEqual([`project:${images.projectHero}`]);

      // Even a stored row named like a technical alias (the API refuses to write one) loses to it.
      await db.execute(
        sql`insert into image_aliases (project_id, alias, image_id) values (${scope.project.id}, '@last', ${images.upload})`,
      );
      expect(await resolve(db, owner, ["@last"], { flowId })).toEqual([`technical:${images.flowHero}`]);
      await db.execute(sql`delete from image_aliases where project_id = ${scope.project.id} and alias = '@last'`);

      expect(await resolve(db, owner, [images.upload as string, "@nobody"], { flowId })).toEqual([`id:${images.upload}`, null]);
    });
  });

  it("resolves @last, @first and @upload among the flow's live images", async () => {
    await withDb(async (db) => {
      const owner = { projectId: scope.project.id };
      expect(await resolve(db, owner, ["@last", "@first", "@upload", "@LAST"], { flowId })).toEqual([
        `technical:${images.flowHero}`,
        `technical:${images.firstGenerated}`,
        `technical:${images.reference}`,
        `technical:${images.flowHero}`,
      ]);
      // Without a flow, or in a flow with no images, they name nothing.
      expect(await resolve(db, owner, ["@last", "@first", "@upload"], { flowId: null })).toEqual([null, null, null]);
      expect(await resolve(db, owner, ["@last"], { flowId: crypto.randomUUID() })).toEqual([null]);
    });
  });

  it("sees only images created before `before`, so a regeneration never takes its own output as @last", async () => {
    await withDb(async (db) => {
      const owner = { projectId: scope.project.id };
      expect(await resolve(db, owner, ["@last", "@upload", "@hero"], { flowId, before: at(3) })).toEqual([
        `technical:${images.firstGenerated}`,
        `technical:${images.upload}`,
        // Aliases name what they name, whenever it was made.
        `flow:${images.flowHero}`,
      ]);
      expect(await resolve(db, owner, ["@first"], { flowId, before: at(1) })).toEqual([null]);
    });
  });

  it("never reaches another project's image id, alias or flow", async () => {
    await withDb(async (db) => {
      const other = await createProject(db);
      const otherFlow = crypto.randomUUID();
      const otherImage = await insertImageRow(db, other, "generated", { flowId: otherFlow });
      await writeAliases(db, {
        projectId: other.project.id,
        imageId: otherImage,
        alias: "@theirs",
        flow: { id: otherFlow, alias: "@their-flow" },
      });

      const owner = { projectId: scope.project.id };
      expect(await resolve(db, owner, [otherImage, "@theirs", "@last", "@their-flow"], { flowId: otherFlow })).toEqual([
        null,
        null,
        null,
        null,
      ]);
      // The owner project still sees its own.
      expect(await resolve(db, { projectId: other.project.id }, ["@theirs", "@last"], { flowId: otherFlow })).toEqual([
        `project:${otherImage}`,
        `technical:${otherImage}`,
      ]);
    });
  });

  it("resolves by the presented key's hash, so the lookup can run alongside authentication", async () => {
    await withDb(async (db) => {
      const key = await insertKey(db, { type: "project", scope });
      const master = await insertKey(db, { type: "master" });
      expect(await resolve(db, { keyHash: key.hash }, ["@hero"], { flowId })).toEqual([`flow:${images.flowHero}`]);
      expect(await resolve(db, { keyHash: master.hash }, ["@hero", images.upload as string], { flowId })).toEqual([null, null]);
      expect(await resolve(db, { keyHash: "0".repeat(64) }, ["@hero"], { flowId })).toEqual([null]);
    });
  });

  it("refuses a reference that is neither an image id nor an alias with ALIAS_FORMAT_CHECK naming its field", () => {
    expect(() =>
      referenceSpecs([
        ["referenceImages.0", "@hero"],
        ["referenceImages.1", "hero.png"],
      ]),
    ).toThrow(
      expect.objectContaining({ code: "ALIAS_FORMAT_CHECK", errors: [expect.objectContaining({ field: "referenceImages.1" })] }),
    );
  });
});

describe("writing aliases", () => {
  it("moves a project alias to its new image, and the image's old alias goes", async () => {
    await withDb(async (db) => {
      const scope = await createProject(db);
      const projectId = scope.project.id;
      const [a, b] = [await insertImageRow(db, scope), await insertImageRow(db, scope)];

      expect(await writeAliases(db, { projectId, imageId: a, alias: "@hero" })).toEqual([
        { alias: "@hero", scope: "project", flowId: null, fromImageId: null, toImageId: a },
      ]);
      await writeAliases(db, { projectId, imageId: b, alias: "@old" });
      expect(await writeAliases(db, { projectId, imageId: b, alias: "@hero" })).toEqual([
        { alias: "@old", scope: "project", flowId: null, fromImageId: b, toImageId: null },
        { alias: "@hero", scope: "project", flowId: null, fromImageId: a, toImageId: b },
      ]);
      expect(await projectAliases(db, projectId)).toEqual([{ alias: "@hero", image_id: b, flow_id: null }]);

      // The same alias again changes nothing; null removes the image's alias.
      expect(await writeAliases(db, { projectId, imageId: b, alias: "@hero" })).toEqual([]);
      await writeAliases(db, { projectId, imageId: b, alias: null });
      expect(await projectAliases(db, projectId)).toEqual([]);
    });
  });

  it("leaves exactly one row after 20 concurrent moves of one alias, on the last writer's image", async () => {
    await withDb(async (db) => {
      const scope = await createProject(db);
      const projectId = scope.project.id;
      const targets = await Promise.all(Array.from({ length: 20 }, () => insertImageRow(db, scope)));

      const moves = await Promise.all(
        targets.map((imageId) => withDb((own) => writeAliases(own, { projectId, imageId, alias: "@hero" }))),
      );

      const rows = await projectAliases(db, projectId);
      expect(rows).toHaveLength(1);
      // Each move took the alias from the one before it: one chain from nowhere through all 20
      // images, so none was lost, and the last link is the image that holds it.
      const taken = new Map(moves.map((changes) => [changes[0]?.fromImageId ?? null, changes[0]?.toImageId]));
      expect(moves.every((changes) => changes.length === 1)).toBe(true);
      const chain: (string | null | undefined)[] = [];
      for (let image = taken.get(null); image; image = taken.get(image)) chain.push(image);
      expect(chain).toHaveLength(20);
      expect(new Set(chain)).toEqual(new Set(targets));
      expect(rows[0]).toEqual({ alias: "@hero", image_id: chain.at(-1), flow_id: null });
    });
  });

  it("refuses a flow alias the flow gives another live image with 409 ALIAS_CONFLICT, writing nothing", async () => {
    await withDb(async (db) => {
      const scope = await createProject(db);
      const projectId = scope.project.id;
      const flowId = crypto.randomUUID();
      const first = await insertImageRow(db, scope, "generated", { flowId });
      const second = await insertImageRow(db, scope, "generated", { flowId });
      await writeAliases(db, { projectId, imageId: first, flow: { id: flowId, alias: "@hero2" } });
      await writeAliases(db, { projectId, imageId: first, alias: "@project-only" });

      // Found before any write, by the read a request makes first: taken in the flow, free in the project.
      const [taken, projectOnly] = await resolveImageRefs(
        db,
        { projectId },
        referenceSpecs([
          ["flowAlias", "@hero2"],
          ["flowAlias", "@project-only"],
        ]),
        { flowId },
      );
      expect(() => assertFlowAliasFree("@hero2", taken ?? null)).toThrow(expect.objectContaining({ code: "ALIAS_CONFLICT" }));
      expect(() => assertFlowAliasFree("@project-only", projectOnly ?? null)).not.toThrow();

      await expect(
        writeAliases(db, { projectId, imageId: second, alias: "@mine", flow: { id: flowId, alias: "@hero2" } }),
      ).rejects.toMatchObject({
        code: "ALIAS_CONFLICT",
        status: 409,
        message: "@hero2 already names another image in this flow",
      });
      // The whole batch rolled back: the project alias of the same write was not given either.
      expect(await projectAliases(db, projectId)).toEqual([
        { alias: "@hero2", image_id: first, flow_id: flowId },
        { alias: "@project-only", image_id: first, flow_id: null },
      ]);

      // Another flow is another scope; and once the image is deleted, its alias may be given again.
      await writeAliases(db, { projectId, imageId: second, flow: { id: crypto.randomUUID(), alias: "@hero2" } });
      await db.execute(sql`update images set deleted_at = now() where id = ${first}`);
      expect(await writeAliases(db, { projectId, imageId: second, flow: { id: flowId, alias: "@hero2" } })).toEqual([
        { alias: "@hero2", scope: "flow", flowId, fromImageId: null, toImageId: second },
      ]);
    });
  });

  it("takes only the refusing cast's own error for a conflict, not any failure of a statement that quotes it", () => {
    const quoting = new DrizzleQueryError("insert ... params: banatie:alias-conflict:,@hero", ["banatie:alias-conflict:"], {
      code: "23505",
      message: "duplicate key value",
    } as unknown as Error);
    expect(() => rethrowAliasConflict(quoting)).toThrow(quoting);
  });

  it("refuses an alias outside the grammar, or a technical one, with ALIAS_FORMAT_CHECK before any statement", async () => {
    await withDb(async (db) => {
      const write = { projectId: crypto.randomUUID(), imageId: crypto.randomUUID() };
      expect(() => aliasWriteStatements(db, { ...write, alias: "hero" })).toThrow(
        expect.objectContaining({ code: "ALIAS_FORMAT_CHECK", errors: [expect.objectContaining({ field: "alias" })] }),
      );
      expect(() => aliasWriteStatements(db, { ...write, flow: { id: crypto.randomUUID(), alias: "@Last" } })).toThrow(
        expect.objectContaining({ code: "ALIAS_FORMAT_CHECK", errors: [expect.objectContaining({ field: "flowAlias" })] }),
      );
    });
  });

  it("clears every alias of an image that is being deleted", async () => {
    await withDb(async (db) => {
      const scope = await createProject(db);
      const projectId = scope.project.id;
      const flowId = crypto.randomUUID();
      const image = await insertImageRow(db, scope, "generated", { flowId });
      const kept = await insertImageRow(db, scope);
      await writeAliases(db, { projectId, imageId: image, alias: "@gone", flow: { id: flowId, alias: "@gone-too" } });
      await writeAliases(db, { projectId, imageId: kept, alias: "@kept" });

      const changes = await writeAliases(db, { projectId, imageId: image, clear: true });
      expect(changes).toEqual(
        expect.arrayContaining([
          { alias: "@gone", scope: "project", flowId: null, fromImageId: image, toImageId: null },
          { alias: "@gone-too", scope: "flow", flowId, fromImageId: image, toImageId: null },
        ]),
      );
      expect(await projectAliases(db, projectId)).toEqual([{ alias: "@kept", image_id: kept, flow_id: null }]);
    });
  });
});
