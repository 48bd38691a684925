/**
 * `npm run keys:recover`: the way back in when the platform has no active master key (all
 * revoked or expired, or the only one lost). Mints a master key in DATABASE_URL's database
 * (through DATABASE_WS_PROXY when set, as `npm run db:migrate` does), prints it once and records
 * `key.recovered` in the audit trail. While any active master key exists it refuses: this is not
 * a way to mint extra keys, which a master key does with POST /api/admin/keys.
 */
import { generateApiKey } from "../worker/src/domain/api-key.ts";
import { messageWithoutCredentials, withNeonPool } from "./stack/migrations.ts";

/** The lock the Worker takes to revoke master keys, so a recovery and a revocation never interleave. */
const MASTER_KEYS_LOCK = "banatie.master-keys";

type Recovery = { minted: true; id: string; apiKey: string } | { minted: false; activeMasterKeys: number };

async function recoverMasterKey(databaseUrl: string, wsProxy: string | undefined): Promise<Recovery> {
  const key = await generateApiKey("master");
  const id = crypto.randomUUID();
  return withNeonPool(databaseUrl, wsProxy, async (pool) => {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("select pg_advisory_xact_lock(hashtext($1))", [MASTER_KEYS_LOCK]);
      const active = await client.query<{ count: number }>(
        `select count(*)::int as count from api_keys
         where type = 'master' and revoked_at is null and (expires_at is null or expires_at > now())`,
      );
      const activeMasterKeys = active.rows[0]?.count ?? 0;
      if (activeMasterKeys > 0) {
        await client.query("rollback");
        return { minted: false, activeMasterKeys };
      }
      // created_by names the key itself: only the bootstrap key has none, and that one may still exist, revoked.
      await client.query(
        `insert into api_keys (id, type, name, display_prefix, key_hash, created_by)
         values ($1, 'master', 'Recovered master key', $2, $3, $1)`,
        [id, key.displayPrefix, key.hash],
      );
      await client.query(
        `insert into audit_events (action, target_type, target_id, user_agent, metadata)
         values ('key.recovered', 'api_key', $1, 'npm run keys:recover', $2)`,
        [id, JSON.stringify({ type: "master", prefix: key.displayPrefix, expiresAt: null })],
      );
      await client.query("commit");
      return { minted: true, id, apiKey: key.plaintext };
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  });
}

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("[banatie] keys:recover needs DATABASE_URL (and DATABASE_WS_PROXY for a PostgreSQL behind the local proxy)");
  process.exit(1);
}
try {
  const recovery = await recoverMasterKey(databaseUrl, process.env.DATABASE_WS_PROXY || undefined);
  if (!recovery.minted) {
    console.error(
      `[banatie] refused: ${recovery.activeMasterKeys} active master key(s) exist; create further keys with one of them (POST /api/admin/keys)`,
    );
    process.exit(1);
  }
  console.log(`[banatie] master key recovered (id ${recovery.id}); shown this once, store it now:\n${recovery.apiKey}`);
} catch (error) {
  // The message may quote the connection string's host but never its password.
  console.error(`[banatie] recovery failed: ${messageWithoutCredentials(error)}`);
  process.exit(1);
}
