import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, countingRateLimit, readProblem, testEnv } from "./support/app";
import { withDb } from "./support/fixtures";

// Databases of their own: bootstrap only works on a platform with no master key at all.
const DATABASE_URL = testEnv.ISOLATED_DATABASE_URLS.bootstrap as string;
const env = { DATABASE_URL };
const withToken = { "X-Bootstrap-Token": testEnv.BOOTSTRAP_TOKEN };

async function bootstrapStatus(environment: Record<string, unknown>) {
  const response = await api("/api/bootstrap/status", { env: environment });
  return ((await response.json()) as ApiBody<"getBootstrapStatus", 200>).data;
}

async function masterKeyCount(databaseUrl: string): Promise<number> {
  return withDb(async (db) => {
    const result = await db.execute<{ count: number }>(sql`select count(*)::int as count from api_keys where type = 'master'`);
    return result.rows[0]?.count ?? -1;
  }, databaseUrl);
}

describe("POST /api/bootstrap/initial-key outside development", () => {
  it("needs the bootstrap token: 401 without it, 403 with a wrong one, and nothing is created", async () => {
    expect(await bootstrapStatus(env)).toEqual({ bootstrapped: false, tokenRequired: true });

    const missing = await api("/api/bootstrap/initial-key", { method: "POST", env });
    expect(missing.status).toBe(401);
    expect((await readProblem(missing)).code).toBe("BOOTSTRAP_TOKEN_REQUIRED");

    const wrong = await api("/api/bootstrap/initial-key", {
      method: "POST",
      env,
      headers: { "X-Bootstrap-Token": `${testEnv.BOOTSTRAP_TOKEN}x` },
    });
    expect(wrong.status).toBe(403);
    const problem = await readProblem(wrong);
    expect(problem.code).toBe("INVALID_BOOTSTRAP_TOKEN");
    expect(problem.detail).not.toContain(testEnv.BOOTSTRAP_TOKEN);

    expect(await masterKeyCount(DATABASE_URL)).toBe(0);
  });

  it("refuses, saying how to set one, when the deployment has no bootstrap token", async () => {
    const response = await api("/api/bootstrap/initial-key", {
      method: "POST",
      env: { ...env, BOOTSTRAP_TOKEN: "" },
      headers: withToken,
    });
    expect(response.status).toBe(500);
    const problem = await readProblem(response);
    expect(problem.code).toBe("BOOTSTRAP_NOT_CONFIGURED");
    expect(problem.detail).toMatch(/wrangler secret put BOOTSTRAP_TOKEN/);
    expect(await masterKeyCount(DATABASE_URL)).toBe(0);
  });

  it("throttles guessing the token like guessing keys", async () => {
    const guess = { method: "POST", env: { ...env, AUTH_FAILURE_LIMITER: countingRateLimit(2) }, ip: "192.0.2.44" };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await api("/api/bootstrap/initial-key", { ...guess, headers: { "X-Bootstrap-Token": "guess" } });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([403, 403, 429]);
    // Once throttled, even the right token waits.
    const right = await api("/api/bootstrap/initial-key", { ...guess, headers: withToken });
    expect(right.status).toBe(429);
    expect((await readProblem(right)).code).toBe("AUTH_THROTTLED");
  });

  it("creates exactly one master key when ten calls race on an empty platform, then refuses", async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        api("/api/bootstrap/initial-key", { method: "POST", env, ip: "192.0.2.10", headers: withToken }),
      ),
    );
    const created = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status === 403);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(9);
    for (const response of refused) expect((await readProblem(response)).code).toBe("BOOTSTRAP_COMPLETED");

    const { data } = (await (created[0] as Response).json()) as ApiBody<"bootstrapInitialKey", 201>;
    expect(data.type).toBe("master");
    expect(data.apiKey).toMatch(/^bnt_mk_/);
    expect(data.apiKey.startsWith(data.prefix)).toBe(true);
    expect(data.expiresAt).toBeNull();

    const later = await api("/api/bootstrap/initial-key", { method: "POST", env, headers: withToken });
    expect(later.status).toBe(403);
    expect((await bootstrapStatus(env)).bootstrapped).toBe(true);
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

describe("POST /api/bootstrap/initial-key in development", () => {
  it("keeps the one-call bootstrap: no token asked for", async () => {
    const development = {
      DATABASE_URL: testEnv.ISOLATED_DATABASE_URLS.bootstrap_dev as string,
      ENVIRONMENT: "development",
      BOOTSTRAP_TOKEN: "",
    };
    expect(await bootstrapStatus(development)).toEqual({ bootstrapped: false, tokenRequired: false });
    const response = await api("/api/bootstrap/initial-key", { method: "POST", env: development });
    expect(response.status).toBe(201);
    expect(((await response.json()) as ApiBody<"bootstrapInitialKey", 201>).data.apiKey).toMatch(/^bnt_mk_/);
  });
});
