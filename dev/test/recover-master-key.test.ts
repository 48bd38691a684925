import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, ensureDatabase, withNeonPool } from "../stack/migrations.ts";
import { freePort } from "../stack/ports.ts";
import { type LocalPostgres, localPostgresUrl, startPostgres } from "../stack/postgres.ts";
import { ROOT } from "../stack/settings.ts";
import { tempDir } from "./support/temp-dir.ts";

let postgres: LocalPostgres;
let dir: Awaited<ReturnType<typeof tempDir>>;
let databaseUrl: string;

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return withNeonPool(databaseUrl, undefined, async (pool) => (await pool.query(sql, params)).rows as T[]);
}

/** `npm run keys:recover` as an operator runs it. */
function runRecoverCommand(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dev/recover-master-key.ts"], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A master key row as a fixture: only its state matters here. */
async function insertMasterKey(state: { revoked?: boolean; expired?: boolean; bootstrap?: boolean }) {
  await query(
    `insert into api_keys (type, name, display_prefix, key_hash, revoked_at, expires_at, created_by)
     values ('master', 'fixture', 'bnt_mk_fixtur', $1, $2, $3, $4)`,
    [
      crypto.randomUUID(),
      state.revoked ? new Date(Date.now() - 60_000) : null,
      state.expired ? new Date(Date.now() - 60_000) : null,
      state.bootstrap ? null : crypto.randomUUID(),
    ],
  );
}

beforeAll(async () => {
  dir = await tempDir("recover");
  postgres = await startPostgres({ dataDir: `${dir.path}/pg`, port: await freePort(), database: "banatie", persistent: false });
  databaseUrl = localPostgresUrl(postgres.port, "banatie");
  await ensureDatabase(databaseUrl);
  await applyMigrations(databaseUrl);
});

afterAll(async () => {
  await postgres?.stop();
  await dir?.remove();
});

describe("npm run keys:recover", () => {
  it("refuses without DATABASE_URL", async () => {
    const result = await runRecoverCommand({ DATABASE_URL: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("needs DATABASE_URL");
  });

  it("mints a master key, printed once and audited, when every master key is revoked or expired; then refuses", async () => {
    // The bootstrap key, revoked, and another that expired: the platform is locked out.
    await insertMasterKey({ bootstrap: true, revoked: true });
    await insertMasterKey({ expired: true });

    const recovered = await runRecoverCommand({ DATABASE_URL: databaseUrl });
    expect(recovered.stderr).toBe("");
    expect(recovered.code).toBe(0);
    const printed = recovered.stdout.match(/bnt_mk_\w+/g) ?? [];
    expect(printed).toHaveLength(1);
    const apiKey = printed[0] as string;

    // Stored as the Worker stores keys: its SHA-256 and prefix, never expiring, never the key.
    const hash = createHash("sha256").update(apiKey).digest("hex");
    const [key] = await query<{ id: string; expires_at: Date | null; revoked_at: Date | null; display_prefix: string }>(
      "select id, expires_at, revoked_at, display_prefix from api_keys where key_hash = $1",
      [hash],
    );
    expect(key).toMatchObject({ expires_at: null, revoked_at: null, display_prefix: apiKey.slice(0, 13) });
    const audit = await query<{ action: string; target_id: string; metadata: Record<string, unknown> }>(
      "select action, target_id, metadata from audit_events",
    );
    expect(audit).toEqual([{ action: "key.recovered", target_id: key?.id, metadata: expect.any(Object) }]);
    expect(JSON.stringify(await query("select * from audit_events"))).not.toContain(apiKey.slice(13));

    // With an active master key again, a second run mints nothing.
    const again = await runRecoverCommand({ DATABASE_URL: databaseUrl });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("refused: 1 active master key");
    expect(again.stdout).not.toMatch(/bnt_mk_/);
    const masters = await query<{ count: number }>("select count(*)::int as count from api_keys where type = 'master'");
    expect(masters[0]?.count).toBe(3);
  });
});
