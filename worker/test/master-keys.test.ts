import { describe, expect, it } from "vitest";
import { api, readProblem, testEnv } from "./support/app";
import { insertKey, withDb } from "./support/fixtures";

// A database of its own: these tests count every active master key of the platform.
const DATABASE_URL = testEnv.ISOLATED_DATABASE_URLS.master_keys as string;
const env = { DATABASE_URL };

describe("revoking master keys", () => {
  it("never leaves the platform without an active master key, even when revocations race", async () => {
    const [first, second] = await withDb(
      (db) => Promise.all([insertKey(db, { type: "master" }), insertKey(db, { type: "master" })]),
      DATABASE_URL,
    );
    if (!first || !second) throw new Error("fixtures");

    // Each key revokes the other at the same moment: only one revocation may win.
    const [a, b] = await Promise.all([
      api(`/api/admin/keys/${second.id}`, { method: "DELETE", key: first.key, env }),
      api(`/api/admin/keys/${first.id}`, { method: "DELETE", key: second.key, env }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const refused = (a.status === 409 ? a : b) as Response;
    expect((await readProblem(refused)).code).toBe("LAST_MASTER_KEY");
    await (a.status === 200 ? a : b).body?.cancel();

    const survivor = a.status === 200 ? first : second;
    const self = await api(`/api/admin/keys/${survivor.id}`, { method: "DELETE", key: survivor.key, env });
    expect(self.status).toBe(409);
    expect((await readProblem(self)).code).toBe("LAST_MASTER_KEY");

    const stillWorks = await api("/api/admin/keys", { key: survivor.key, env });
    expect(stillWorks.status).toBe(200);
    await stillWorks.body?.cancel();
  });
});
