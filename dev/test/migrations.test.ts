import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_FOLDER, withNeonPool } from "../stack/migrations.ts";
import { freePort } from "../stack/ports.ts";
import { type LocalPostgres, localPostgresUrl, startPostgres } from "../stack/postgres.ts";
import { ROOT } from "../stack/settings.ts";
import { tempDir } from "./support/temp-dir.ts";

const TABLES = [
  "api_keys",
  "audit_events",
  "billing_exports",
  "budget_periods",
  "budget_reservations",
  "flows",
  "generation_references",
  "generations",
  "idempotency_keys",
  "image_aliases",
  "image_variants",
  "images",
  "organizations",
  "projects",
  "prompt_cache",
  "rate_limit_windows",
  "usage_daily",
  "usage_events",
  "webhook_deliveries",
  "webhook_endpoints",
];

let postgres: LocalPostgres;
let dir: Awaited<ReturnType<typeof tempDir>>;

/** Runs SQL through the same driver as the Worker. */
async function query<T>(database: string, sql: string): Promise<T[]> {
  return withNeonPool(localPostgresUrl(postgres.port, database), undefined, async (pool) => (await pool.query(sql)).rows as T[]);
}

async function createEmptyDatabase(): Promise<string> {
  const name = `empty_${Math.random().toString(36).slice(2, 10)}`;
  await query("postgres", `create database ${name}`);
  return name;
}

function runMigrateCommand(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dev/migrate.ts"], { cwd: ROOT, env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  dir = await tempDir("migrations");
  postgres = await startPostgres({ dataDir: `${dir.path}/pg`, port: await freePort(), database: "banatie", persistent: false });
});

afterAll(async () => {
  await postgres?.stop();
  await dir?.remove();
});

describe("migrations", () => {
  it("apply cleanly to an empty database, creating every table and the indexes later queries need", async () => {
    const database = await createEmptyDatabase();
    await applyMigrations(localPostgresUrl(postgres.port, database));

    const tables = await query<{ table_name: string }>(
      database,
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    expect(tables.map((row) => row.table_name)).toEqual(TABLES);

    const indexes = (
      await query<{ indexname: string }>(database, "select indexname from pg_indexes where schemaname = 'public'")
    ).map((row) => row.indexname);
    expect(indexes).toEqual(
      expect.arrayContaining([
        "api_keys_key_hash_unique",
        "images_project_category_created_idx",
        "generations_api_key_created_idx",
        "audit_events_created_idx",
        "rate_limit_windows_api_key_id_window_start_pk",
        "api_keys_single_bootstrap_key",
        "audit_events_target_created_idx",
        "image_variants_image_id_variant_key_pk",
        "usage_events_project_created_idx",
        "usage_events_api_key_created_idx",
        "images_project_flow_created_idx",
        "generations_project_flow_created_idx",
        "image_aliases_project_uq",
        "image_aliases_flow_uq",
        "image_aliases_one_project_alias",
        "generation_references_image_idx",
      ]),
    );
  });

  it("index image search per project, so a search costs what the project holds, not what every tenant does", async () => {
    const database = await createEmptyDatabase();
    await applyMigrations(localPostgresUrl(postgres.port, database));

    const trigramIndexes = await query<{ indexname: string; indexdef: string }>(
      database,
      "select indexname, indexdef from pg_indexes where tablename = 'images' and indexdef like '%gin_trgm_ops%'",
    );
    expect(trigramIndexes.map((row) => row.indexname)).toEqual(["images_project_search_text_trgm_idx"]);
    expect(trigramIndexes[0]?.indexdef).toContain("USING gin (project_id, search_text gin_trgm_ops)");
  });

  it("keep an alias unique in its scope, so moving a project alias is one upsert on its partial index", async () => {
    const database = await createEmptyDatabase();
    await applyMigrations(localPostgresUrl(postgres.port, database));
    const [org, project, flow, imageA, imageB] = Array.from({ length: 5 }, () => crypto.randomUUID());
    await query(database, `insert into organizations (id, slug, name) values ('${org}', 'o', 'o')`);
    await query(database, `insert into projects (id, organization_id, slug, name) values ('${project}', '${org}', 'p', 'p')`);
    await query(
      database,
      `insert into images (id, project_id, category, storage_key, mime_type, bytes, width, height, sha256)
       values ('${imageA}', '${project}', 'uploads', 'o/p/uploads/a.png', 'image/png', 1, 1, 1, 'x'),
              ('${imageB}', '${project}', 'uploads', 'o/p/uploads/b.png', 'image/png', 1, 1, 1, 'x')`,
    );
    const setProjectAlias = (alias: string, image: string | undefined) =>
      query(
        database,
        `insert into image_aliases (project_id, alias, image_id) values ('${project}', '${alias}', '${image}')
         on conflict (project_id, alias) where flow_id is null do update set image_id = excluded.image_id, updated_at = now()`,
      );
    const aliases = () =>
      query<{ alias: string; image_id: string; flow_id: string | null }>(
        database,
        'select alias, image_id, flow_id from image_aliases order by flow_id nulls first, alias collate "C"',
      );
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => "no error",
        (error: { code?: string }) => error.code,
      );

    await setProjectAlias("@hero", imageA);
    await setProjectAlias("@hero", imageB);
    expect(await aliases()).toEqual([{ alias: "@hero", image_id: imageB, flow_id: null }]);

    // An image holds one project alias; a flow alias of the same name is another scope.
    expect(await failure(setProjectAlias("@other", imageB))).toBe("23505");
    expect(
      await failure(
        query(
          database,
          `insert into image_aliases (project_id, flow_id, alias, image_id) values ('${project}', '${flow}', '@hero', '${imageA}')`,
        ),
      ),
    ).toBe("23503");
    await query(database, `insert into flows (project_id, id) values ('${project}', '${flow}')`);
    const setFlowAlias = (alias: string, image: string | undefined) =>
      query(
        database,
        `insert into image_aliases (project_id, flow_id, alias, image_id) values ('${project}', '${flow}', '${alias}', '${image}')`,
      );
    await setFlowAlias("@hero", imageA);
    await setFlowAlias("@hero2", imageA);
    expect(await failure(setFlowAlias("@hero", imageB))).toBe("23505");

    // The grammar holds in the database too: an @ and 1-49 of [A-Za-z0-9_-].
    expect(await failure(setProjectAlias("hero", imageA))).toBe("23514");
    expect(await failure(setProjectAlias(`@${"x".repeat(50)}`, imageA))).toBe("23514");
    await setProjectAlias(`@${"x".repeat(49)}`, imageA);

    // Deleting a flow drops its aliases and leaves the project's.
    await query(database, `delete from flows where id = '${flow}'`);
    expect(await aliases()).toEqual([
      { alias: "@hero", image_id: imageB, flow_id: null },
      { alias: `@${"x".repeat(49)}`, image_id: imageA, flow_id: null },
    ]);
  });

  it("are applied once: a second run changes nothing", async () => {
    const database = await createEmptyDatabase();
    const url = localPostgresUrl(postgres.port, database);
    await applyMigrations(url);
    await applyMigrations(url);

    const journal = JSON.parse(await readFile(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as {
      entries: unknown[];
    };
    const applied = await query<{ count: string }>(database, "select count(*) from drizzle.__drizzle_migrations");
    expect(journal.entries.length).toBeGreaterThan(0);
    expect(Number(applied[0]?.count)).toBe(journal.entries.length);
  });

  it("`npm run db:migrate` without DATABASE_URL migrates the local stack's database, starting its PostgreSQL", async () => {
    const data = await tempDir("migrate-local");
    const port = await freePort();
    try {
      const env = { DATABASE_URL: "", BANATIE_DATA_DIR: data.path, BANATIE_PG_PORT: String(port) };
      const first = await runMigrateCommand(env);
      expect(first.output).toContain("migrations applied");
      expect(first.code).toBe(0);
      // PostgreSQL was stopped again: the port is free, and a second run finds the data in place.
      const second = await runMigrateCommand(env);
      expect(second.code).toBe(0);
    } finally {
      await data.remove();
    }
  });

  it("`npm run db:migrate` migrates any DATABASE_URL, reporting failures without the password", async () => {
    const database = await createEmptyDatabase();
    const ok = await runMigrateCommand({ DATABASE_URL: localPostgresUrl(postgres.port, database) });
    expect(ok.output).toContain("migrations applied");
    expect(ok.code).toBe(0);
    expect(await query(database, "select 1 from api_keys")).toEqual([]);

    const failed = await runMigrateCommand({ DATABASE_URL: localPostgresUrl(await freePort(), database) });
    expect(failed.code).toBe(1);
    expect(failed.output).toContain("migration failed");
    expect(failed.output).not.toContain("banatie-local");
  });
});
