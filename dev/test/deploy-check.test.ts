import { spawn } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMigrations } from "../deploy/migrations-check.ts";
import { checkSettings, requiredSettings } from "../deploy/settings.ts";
import { applyMigrations, ensureDatabase, MIGRATIONS_FOLDER, readJournal, withNeonPool } from "../stack/migrations.ts";
import { freePort } from "../stack/ports.ts";
import { type LocalPostgres, localPostgresUrl, startPostgres } from "../stack/postgres.ts";
import { ROOT } from "../stack/settings.ts";
import { tempDir } from "./support/temp-dir.ts";

/** Placeholder names, as CI gives them: the check reads names only. */
const ALL_SECRETS = "DATABASE_URL,URL_SIGNING_SECRET,GEMINI_API_KEY,BOOTSTRAP_TOKEN";

/**
 * Copies of the repository's wrangler files that run from another folder: the Worker entries
 * point back into the repository and the API's assets at a one-page site, so the check's dry
 * runs need no site build. `edit` changes a copy's text (e.g. its compatibility date).
 */
async function copyConfigs(dir: string, edit: (file: string, text: string) => string = (_, text) => text) {
  const site = path.join(dir, "site");
  await mkdir(site, { recursive: true });
  await writeFile(path.join(site, "index.html"), "<!doctype html><title>Banatie</title>");
  for (const file of ["wrangler.toml", "wrangler.delivery.toml"]) {
    const text = (await readFile(path.join(ROOT, file), "utf8"))
      .replace(/^main = "(.+)"$/m, (_, main: string) => `main = "${path.join(ROOT, main)}"`)
      .replace('directory = "./site/dist"', `directory = "${site}"`);
    await writeFile(path.join(dir, file), edit(file, text));
  }
  return dir;
}

/** `npm run deploy:check` as an operator runs it; nothing from the test's own settings leaks in. */
function runCheckCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dev/deploy/check.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: "", DEPLOY_SECRETS: "", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve({ code, output }));
  });
}

function line(output: string, check: string): string {
  return (
    output.split("\n").find((entry) => new RegExp(`^\\s+(PASS|FAIL|SKIP)\\s+${check.replace(/[()]/g, "\\$&")}\\s`).test(entry)) ??
    ""
  );
}

describe("npm run deploy:check", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let runs: Record<"staging" | "production" | "drifted", { code: number | null; output: string }>;

  // Every run bundles both Workers (seconds each), so the three runs the tests read start together.
  beforeAll(async () => {
    dir = await tempDir("deploy-check");
    const good = await copyConfigs(path.join(dir.path, "good"));
    const drifted = await copyConfigs(path.join(dir.path, "drifted"), (file, text) =>
      file === "wrangler.delivery.toml"
        ? text.replace('compatibility_date = "2026-11-01"', 'compatibility_date = "2026-10-01"')
        : text,
    );
    const [staging, production, drift] = await Promise.all([
      runCheckCommand(["--env", "staging", "--config-dir", good], { DEPLOY_SECRETS: ALL_SECRETS }),
      runCheckCommand(["--env", "production", "--config-dir", good], { DEPLOY_SECRETS: ALL_SECRETS }),
      runCheckCommand(["--env", "staging", "--config-dir", drifted], {
        DEPLOY_SECRETS: "DATABASE_URL GEMINI_API_KEY BOOTSTRAP_TOKEN",
      }),
    ]);
    runs = { staging: staging, production: production, drifted: drift };
  }, 240_000);

  afterAll(async () => {
    await dir?.remove();
  });

  it.each(["staging", "production"] as const)("passes for %s with placeholder secret names and no database", (env) => {
    const { code, output } = runs[env];
    for (const check of ["settings (api)", "settings (delivery)", "compatibility", "dry run (api)", "dry run (delivery)"]) {
      expect(line(output, check), check).toMatch(/^\s+PASS/);
    }
    expect(line(output, "bundle size (api)")).toMatch(
      /^\s+PASS\s+bundle size \(api\)\s+\d+ KiB \(limit 65536 KiB\), \d+ KiB gzip/,
    );
    expect(line(output, "migrations")).toMatch(/^\s+SKIP\s+migrations\s+DATABASE_URL is not set/);
    expect(output).toContain(`${env} is ready to deploy`);
    expect(code).toBe(0);
  });

  it("fails naming a missing secret, for each Worker that needs it", () => {
    const { code, output } = runs.drifted;
    for (const worker of ["api", "delivery"]) {
      expect(line(output, `settings (${worker})`)).toMatch(/^\s+FAIL/);
      expect(line(output, `settings (${worker})`)).toContain(
        "URL_SIGNING_SECRET is missing: wrangler secret put URL_SIGNING_SECRET --env staging",
      );
    }
    expect(output).toMatch(/\d+ gap\(s\): staging is not ready to deploy/);
    expect(code).toBe(1);
  });

  it("fails when the two Workers' compatibility dates differ", () => {
    const compatibility = line(runs.drifted.output, "compatibility");
    expect(compatibility).toMatch(/^\s+FAIL/);
    expect(compatibility).toContain("compatibility_date is 2026-11-01 for the API, 2026-10-01 for delivery");
  });

  it("refuses an environment the configuration does not declare", async () => {
    const { code, output } = await runCheckCommand(["--env", "prod"], {});
    expect(output).toContain("--env must be one of staging, production");
    expect(code).toBe(1);
  });
});

describe("the settings check", () => {
  it("asks each Worker for what it uses: the S3 credentials only while the S3 driver stores images", () => {
    expect(requiredSettings("delivery", { STORAGE_DRIVER: "r2" })).toEqual(["ENVIRONMENT", "DATABASE_URL", "URL_SIGNING_SECRET"]);
    expect(requiredSettings("api", { STORAGE_DRIVER: "r2" })).toEqual([
      "ENVIRONMENT",
      "DATABASE_URL",
      "GEMINI_API_KEY",
      "URL_SIGNING_SECRET",
      "BOOTSTRAP_TOKEN",
    ]);
    // Unset, the driver is s3 (the schema's default).
    expect(requiredSettings("delivery", {})).toEqual(
      expect.arrayContaining(["S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]),
    );
  });

  it("asks for STRIPE_SECRET_KEY once a meter name turns the billing export on, and never before", () => {
    expect(requiredSettings("api", { STORAGE_DRIVER: "r2" })).not.toContain("STRIPE_SECRET_KEY");
    expect(requiredSettings("api", { STORAGE_DRIVER: "r2", STRIPE_METER_EVENT_NAME: "banatie_usage" })).toContain(
      "STRIPE_SECRET_KEY",
    );
    expect(requiredSettings("delivery", { STORAGE_DRIVER: "r2", STRIPE_METER_EVENT_NAME: "banatie_usage" })).not.toContain(
      "STRIPE_SECRET_KEY",
    );
    const result = checkSettings(
      { env: "production", configDir: ROOT },
      "api",
      {
        vars: { ENVIRONMENT: "production", STORAGE_DRIVER: "r2", STRIPE_METER_EVENT_NAME: "banatie_usage" },
        r2_buckets: [{ binding: "IMAGES_BUCKET", bucket_name: "banatie-production" }],
        configPath: path.join(ROOT, "wrangler.toml"),
      },
      { names: ["DATABASE_URL", "URL_SIGNING_SECRET", "GEMINI_API_KEY", "BOOTSTRAP_TOKEN"], source: "DEPLOY_SECRETS" },
    );
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("STRIPE_SECRET_KEY is missing: wrangler secret put STRIPE_SECRET_KEY --env production");
  });

  it("refuses a secret written in [vars], an invalid value and an r2 driver without its bucket", () => {
    const result = checkSettings(
      { env: "staging", configDir: ROOT },
      "delivery",
      {
        vars: {
          ENVIRONMENT: "staging",
          STORAGE_DRIVER: "r2",
          URL_SIGNING_SECRET: "x".repeat(40),
          PUBLIC_BASE_URL: "api.banatie.app",
        },
        r2_buckets: [],
        configPath: path.join(ROOT, "wrangler.delivery.toml"),
      },
      { names: ["DATABASE_URL"], source: "DEPLOY_SECRETS" },
    );
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("URL_SIGNING_SECRET is a secret: remove it from [env.staging.vars]");
    expect(result.detail).toContain("PUBLIC_BASE_URL must be an http(s) URL");
    expect(result.detail).toContain("STORAGE_DRIVER is r2 but [[env.staging.r2_buckets]] has no IMAGES_BUCKET binding");
    expect(result.detail).not.toContain("x".repeat(40));
  });

  it("says where secret names come from when it has none", () => {
    const result = checkSettings(
      { env: "production", configDir: ROOT },
      "api",
      {
        vars: { ENVIRONMENT: "production", STORAGE_DRIVER: "r2" },
        r2_buckets: [{ binding: "IMAGES_BUCKET", bucket_name: "banatie-production" }],
        configPath: path.join(ROOT, "wrangler.toml"),
      },
      {
        error:
          "no secret list: set CLOUDFLARE_API_TOKEN to read it from Cloudflare, or name the secrets that are set in DEPLOY_SECRETS",
      },
    );
    expect(result.status).toBe("fail");
    expect(result.detail).toContain(
      "DEPLOY_SECRETS (this Worker needs DATABASE_URL, GEMINI_API_KEY, URL_SIGNING_SECRET, BOOTSTRAP_TOKEN)",
    );
  });
});

describe("the migrations check", () => {
  let postgres: LocalPostgres;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  async function database(name: string): Promise<string> {
    const url = localPostgresUrl(postgres.port, name);
    await ensureDatabase(url);
    return url;
  }

  beforeAll(async () => {
    dir = await tempDir("deploy-migrations");
    postgres = await startPostgres({ dataDir: `${dir.path}/pg`, port: await freePort(), database: "banatie", persistent: false });
  });

  afterAll(async () => {
    await postgres?.stop();
    await dir?.remove();
  });

  it("is skipped without DATABASE_URL", async () => {
    expect((await checkMigrations({})).status).toBe("skip");
  });

  it("passes when the database has every committed migration", async () => {
    const url = await database("current");
    await applyMigrations(url);
    const result = await checkMigrations({ databaseUrl: url });
    expect(result.status).toBe("pass");
    expect(result.detail).toBe(`all ${(await readJournal()).length} committed migrations are applied`);
  });

  it("fails naming the migrations a database lacks, unless the deploy is about to apply them", async () => {
    const journal = await readJournal();
    const newest = journal.at(-1)?.tag as string;
    // The database as the previous release left it: migrated up to the one before the newest.
    const previous = path.join(dir.path, "previous-drizzle");
    await cp(MIGRATIONS_FOLDER, previous, { recursive: true });
    const journalFile = path.join(previous, "meta", "_journal.json");
    const committed = JSON.parse(await readFile(journalFile, "utf8")) as { entries: unknown[] };
    await writeFile(journalFile, JSON.stringify({ ...committed, entries: committed.entries.slice(0, -1) }));
    const url = await database("behind");
    await applyMigrations(url, undefined, previous);

    const behind = await checkMigrations({ databaseUrl: url });
    expect(behind.status).toBe("fail");
    expect(behind.detail).toBe(`1 not applied: ${newest} (npm run deploy applies them)`);
    const planned = await checkMigrations({ databaseUrl: url, pendingAllowed: true });
    expect(planned).toMatchObject({ status: "pass", detail: `1 to apply next: ${newest}` });
  });

  it("only reads: an empty database stays empty", async () => {
    const url = await database("empty");
    const result = await checkMigrations({ databaseUrl: url });
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(/^\d+ not applied: 0000_initial, /);
    const tables = await withNeonPool(
      url,
      undefined,
      async (pool) => (await pool.query("select 1 from pg_tables where schemaname in ('public', 'drizzle')")).rows,
    );
    expect(tables).toEqual([]);
  });

  it("fails, without the password, when the database cannot be reached", async () => {
    const result = await checkMigrations({ databaseUrl: localPostgresUrl(await freePort(), "banatie") });
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(/^could not read the database: /);
    expect(result.detail).not.toContain("banatie-local");
  });
});
