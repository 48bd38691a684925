import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import type { ApiKeyType } from "../domain/api-key";
import { IDEMPOTENCY_TTL_MS, QUOTA_WINDOW_MS } from "../domain/limits";
import type { Caller } from "../lib/access-types";
import { type ClaimOutcome, claimOutcome, type EarlierRecord, type IdempotencyClaim } from "./idempotency";

/** `last_used_at` is refreshed at most this often, so busy keys do not write on every request. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export type KeyCheck =
  | { status: "unknown" }
  | { status: "revoked"; keyId: string; type: ApiKeyType }
  | { status: "expired"; keyId: string; type: ApiKeyType }
  | { status: "valid"; caller: Caller; spent: boolean; idempotency?: ClaimOutcome };

interface KeyRow extends Record<string, unknown> {
  id: string;
  type: ApiKeyType;
  name: string;
  display_prefix: string;
  organization_id: string | null;
  organization_slug: string | null;
  project_id: string | null;
  project_slug: string | null;
  hourly_limit: number;
  key_budget: number | null;
  project_budget: number | null;
  revoked: boolean;
  expired: boolean;
  window_start: string | Date;
  used: number | null;
  spent: number | null;
  claimed?: boolean;
  earlier?: EarlierRecord | null;
}

/**
 * Authenticates a key and, when asked, spends one request of its hourly quota, in a single
 * statement (one database round trip). The quota counter is incremented atomically by the
 * upsert, so concurrent requests each see a distinct count and exactly `limit` of them are
 * admitted per window; requests past the limit keep counting, which tells the first refusal.
 * Only keys of `spendFor` type spend: a master key on a project route is refused, not charged.
 */
export async function checkApiKey(
  db: Database,
  keyHash: string,
  options: { spendFor?: ApiKeyType; claim?: IdempotencyClaim } = {},
): Promise<KeyCheck> {
  const spend = options.spendFor ?? null;
  const { claim } = options;
  // With an Idempotency-Key, the key is claimed in the same statement, and only a request that
  // wins the claim spends quota: a replay, or a refusal because the first request still runs,
  // costs nothing. A record that expired, or whose request ended without an answer (its lock ran
  // out), is taken over. Concurrent claims of one key wait on each other's insert: one wins.
  const claimSteps = claim
    ? sql`
    claimed as (
      insert into idempotency_keys (api_key_id, key, fingerprint, locked_until, expires_at)
      select id, ${claim.key}, ${claim.fingerprint}, now() + make_interval(secs => ${claim.lockSeconds}),
             now() + make_interval(secs => ${IDEMPOTENCY_TTL_MS / 1000})
      from usable
      on conflict (api_key_id, key) do update
        set fingerprint = excluded.fingerprint, status = 'in_progress', locked_until = excluded.locked_until,
            response_status = null, response_sealed = null,
            created_at = now(), expires_at = excluded.expires_at
        where idempotency_keys.expires_at <= now()
           or (idempotency_keys.status = 'in_progress' and idempotency_keys.locked_until <= now())
      returning 1
    ),
    earlier as (
      select i.fingerprint, i.status, i.response_status, i.response_sealed,
             i.expires_at <= now() or (i.status = 'in_progress' and i.locked_until <= now()) as stale
      from idempotency_keys i
      where i.api_key_id = (select id from usable) and i.key = ${claim.key}
    ),`
    : sql``;
  const spendsIf = claim ? sql`and exists (select 1 from claimed)` : sql``;
  const claimColumns = claim
    ? sql`, exists (select 1 from claimed) as claimed, (select row_to_json(earlier) from earlier) as earlier`
    : sql``;
  const result = await db.execute<KeyRow>(sql`
    with presented as (
      select k.id, k.type, k.name, k.display_prefix, k.organization_id, k.project_id, k.hourly_limit,
             o.slug as organization_slug, p.slug as project_slug,
             k.monthly_budget_usd_micros::float8 as key_budget, p.monthly_budget_usd_micros::float8 as project_budget,
             k.revoked_at is not null as revoked,
             k.revoked_at is null and k.expires_at is not null and k.expires_at <= now() as expired
      from api_keys k
      left join organizations o on o.id = k.organization_id
      left join projects p on p.id = k.project_id
      where k.key_hash = ${keyHash}
    ),
    usable as (
      select * from presented where not revoked and not expired
    ),
    ${claimSteps}
    touched as (
      update api_keys set last_used_at = now()
      where id = (select id from usable)
        and (last_used_at is null or last_used_at < now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS}))
      returning id
    ),
    spent as (
      insert into rate_limit_windows (api_key_id, window_start, count)
      select id, date_trunc('hour', now()), 1 from usable where type::text = ${spend}::text ${spendsIf}
      on conflict (api_key_id, window_start) do update set count = rate_limit_windows.count + 1
      returning count
    )
    select presented.*,
           date_trunc('hour', now()) as window_start,
           (select count from rate_limit_windows w
             where w.api_key_id = presented.id and w.window_start = date_trunc('hour', now())) as used,
           (select count from spent) as spent
           ${claimColumns}
    from presented
  `);
  const row = result.rows[0];
  if (!row) return { status: "unknown" };
  if (row.revoked) return { status: "revoked", keyId: row.id, type: row.type };
  if (row.expired) return { status: "expired", keyId: row.id, type: row.type };

  const windowStart = new Date(row.window_start);
  // Within one statement the sub-select sees the counter as it was before this upsert.
  const used = row.spent ?? row.used ?? 0;
  return {
    status: "valid",
    spent: row.spent !== null,
    ...(claim ? { idempotency: claimOutcome(row.claimed === true, row.earlier ?? null, claim.fingerprint) } : {}),
    caller: {
      keyId: row.id,
      type: row.type,
      name: row.name,
      prefix: row.display_prefix,
      organization:
        row.organization_id && row.organization_slug ? { id: row.organization_id, slug: row.organization_slug } : null,
      project: row.project_id && row.project_slug ? { id: row.project_id, slug: row.project_slug } : null,
      quota: { limit: row.hourly_limit, used, windowStart, resetAt: new Date(windowStart.getTime() + QUOTA_WINDOW_MS) },
      budgets: { key: row.key_budget, project: row.project_budget },
    },
  };
}
