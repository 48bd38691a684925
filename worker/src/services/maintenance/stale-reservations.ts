import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";

/**
 * Releases budget reservations made before `madeBefore` and never closed: the request that held
 * one ended (the isolate was evicted, its settlement failed) before settling it, and the money
 * would otherwise stay held until the month ends, refusing requests the budget has room for. At
 * most `limit` per run, oldest first. A reservation is released by whoever deletes its row, so a
 * settlement arriving later adds what was spent but releases nothing twice.
 */
export async function releaseStaleReservations(
  db: Database,
  options: { madeBefore: Date; limit: number },
): Promise<{ released: number }> {
  // The rows are chosen once, in a CTE (see failStuckGenerations); rows a settlement is deleting
  // right now are skipped. Amounts are summed per budget period row, so each row changes once.
  const result = await db.execute<{ released: number }>(sql`
    with chosen as (
      select id from budget_reservations
      where created_at < ${options.madeBefore.toISOString()}
      order by created_at
      limit ${options.limit}
      for update skip locked
    ),
    stale as (
      delete from budget_reservations where id in (select id from chosen)
      returning key_id, project_id, period_start, scopes, usd_micros
    ),
    held as (
      select 'key' as kind, key_id as scope_id, period_start, sum(usd_micros) as usd_micros
      from stale where 'key' = any(scopes) group by key_id, period_start
      union all
      select 'project', project_id, period_start, sum(usd_micros)
      from stale where 'project' = any(scopes) group by project_id, period_start
    ),
    -- A data-modifying CTE runs to completion whether or not the select reads it.
    released as (
      update budget_periods b
      set reserved_usd_micros = b.reserved_usd_micros - held.usd_micros
      from held
      where b.scope_kind = held.kind and b.scope_id = held.scope_id and b.period_start = held.period_start
      returning 1
    )
    select count(*)::int as released from stale
  `);
  return { released: Number(result.rows[0]?.released ?? 0) };
}
