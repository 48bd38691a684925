import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { api, readProblem, testEnv } from "./support/app";
import { withDb } from "./support/fixtures";

// A database of its own: bootstrap only works on a platform with no master key at all.
const DATABASE_URL = testEnv.ISOLATED_DATABASE_URLS.bootstrap as string;
const env = { DATABASE_URL };

describe("POST /api/bootstrap/initial-key", () => {
  it("creates exactly one master key when ten calls race on an empty platform, then refuses", async () => {
    const status = async () =>
      ((await (await api("/api/bootstrap/status", { env })).json()) as { data: { bootstrapped: boolean } }).data.bootstrapped;
    expect(await status()).toBe(false);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api("/api/bootstrap/initial-key", { method: "POST", env, ip: "192.0.2.10" })),
    );
    const created = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status === 403);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(9);
    for (const response of refused) expect((await readProblem(response)).code).toBe("BOOTSTRAP_COMPLETED");

    const { data } = (await (created[0] as Response).json()) as {
      data: { id: string; apiKey: string; type: string; prefix: string; expiresAt: string | null };
    };
    expect(data.type).toBe("master");
    expect(data.apiKey).toMatch(/^bnt_mk_/);
    expect(data.apiKey.startsWith(data.prefix)).toBe(true);
    expect(data.expiresAt).toBeNull();

    const later = await api("/api/bootstrap/initial-key", { method: "POST", env });
    expect(later.status).toBe(403);
    expect(await status()).toBe(true);
    await later.body?.cancel();

    // The key works, and the database holds its hash and prefix, never the key itself.
    const listed = await api("/api/admin/keys", { key: data.apiKey, env });
    expect(listed.status).toBe(200);
    expect(await listed.text()).not.toContain(data.apiKey);

    await withDb(async (db) => {
      const secret = data.apiKey.slice(13);
      const tables = await db.execute<{ count: number }>(sql`
        select count(*)::int as count from (
          select row_to_json(k)::text as row from api_keys k
          union all select row_to_json(a)::text from audit_events a
        ) everything where row like ${`%${secret}%`}
      `);
      expect(tables.rows[0]?.count).toBe(0);

      const masters = await db.execute<{ count: number }>(sql`select count(*)::int as count from api_keys where type = 'master'`);
      expect(masters.rows[0]?.count).toBe(1);

      const audit = await db.execute<{ action: string; ip: string; target_id: string }>(
        sql`select action, ip, target_id from audit_events where action = 'bootstrap'`,
      );
      expect(audit.rows).toEqual([{ action: "bootstrap", ip: "192.0.2.10", target_id: data.id }]);
    }, DATABASE_URL);
  });
});
