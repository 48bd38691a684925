import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { BUDGET_SOFT_THRESHOLD, type BudgetScope, budgetPeriod, microsToUsd } from "../domain/budget";
import type { ProjectCaller } from "../lib/access-types";
import type { ClientInfo } from "../lib/client-address";
import { AppError } from "../lib/errors";
import { logFailure } from "../lib/log";
import { recordAudit } from "./audit";

/** Where one budgeted scope stands this period, this request's reservation included when admitted. */
export interface BudgetStanding {
  scope: BudgetScope;
  budgetUsdMicros: number;
  spentUsdMicros: number;
  reservedUsdMicros: number;
}

/** Money set aside for one generation, to be settled (`budgetSettlement`) or released exactly once. */
export interface BudgetReservation {
  /** Its budget_reservations row: whoever deletes it closes the reservation. */
  id: string;
  keyId: string;
  projectId: string;
  /** The period the money was reserved in, so a settlement across midnight on the 1st still finds it. */
  periodStart: Date;
  resetAt: Date;
  usdMicros: number;
  /** The scopes holding the reservation, each as it stood right after it. */
  standings: BudgetStanding[];
}

interface StandingRow extends Record<string, unknown> {
  scope: BudgetScope;
  budget: number;
  spent: number;
  reserved: number;
  admitted: boolean;
  period_start_ms: number;
  reservation_id: string | null;
}

export const remainingOf = (standing: BudgetStanding) =>
  Math.max(0, standing.budgetUsdMicros - standing.spentUsdMicros - standing.reservedUsdMicros);

/** The scope with the least left: the one that limits the caller. */
export function tightest(standings: BudgetStanding[]): BudgetStanding | undefined {
  return [...standings].sort((a, b) => remainingOf(a) - remainingOf(b))[0];
}

const usd = (micros: number) => `$${microsToUsd(micros).toFixed(2)}`;

/** Headers that say what is left of the tighter budget. */
export function budgetHeaders(standings: BudgetStanding[], resetAt: Date): Record<string, string> {
  const limiting = tightest(standings);
  if (!limiting) return {};
  return {
    "X-Budget-Scope": limiting.scope,
    "X-Budget-Limit-Usd": microsToUsd(limiting.budgetUsdMicros).toFixed(6),
    "X-Budget-Remaining-Usd": microsToUsd(remainingOf(limiting)).toFixed(6),
    "X-Budget-Reset": resetAt.toISOString(),
  };
}

/**
 * Reserves `usdMicros` (a quote's upper bound) against the monthly budgets of the caller's key
 * and project, or refuses with 402 BUDGET_EXCEEDED when either would be crossed; returns null
 * when neither has a budget. One HTTP exchange (a batch, so one transaction): a per-project
 * advisory lock, then one statement that reads both scopes' standing and, only when both have
 * room, adds the reservation to each and records it as a row of its own (budget_reservations),
 * which settling or releasing it deletes. Under the lock the read is current, so concurrent requests
 * are admitted one at a time and never together cross a budget; settlements only lower what is
 * spent or reserved and never take the lock.
 */
export async function reserveBudget(db: Database, caller: ProjectCaller, usdMicros: number): Promise<BudgetReservation | null> {
  const [, result] = await db.batch([
    db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`banatie.budget:${caller.project.id}`}, 0))`),
    db.execute<StandingRow>(sql`
      with period as (select date_trunc('month', now(), 'UTC') as start),
      scopes as (
        select 'key' as kind, id, monthly_budget_usd_micros as budget from api_keys where id = ${caller.keyId}
        union all
        select 'project', id, monthly_budget_usd_micros from projects where id = ${caller.project.id}
      ),
      standing as (
        select s.kind, s.id, s.budget, coalesce(b.spent_usd_micros, 0) as spent, coalesce(b.reserved_usd_micros, 0) as reserved
        from scopes s
        left join budget_periods b
          on b.scope_kind = s.kind and b.scope_id = s.id and b.period_start = (select start from period)
        where s.budget is not null
      ),
      verdict as (select coalesce(bool_and(spent + reserved + ${usdMicros} <= budget), true) as admitted from standing),
      -- A data-modifying CTE runs to completion whether or not the select reads it.
      reserved as (
        insert into budget_periods (scope_kind, scope_id, period_start, reserved_usd_micros)
        select kind, id, (select start from period), ${usdMicros} from standing where (select admitted from verdict)
        on conflict (scope_kind, scope_id, period_start)
        do update set reserved_usd_micros = budget_periods.reserved_usd_micros + excluded.reserved_usd_micros
        returning scope_kind
      ),
      held as (
        insert into budget_reservations (key_id, project_id, period_start, scopes, usd_micros)
        select ${caller.keyId}::uuid, ${caller.project.id}::uuid, (select start from period), array_agg(kind), ${usdMicros}
        from standing
        having count(*) > 0 and (select admitted from verdict)
        returning id
      )
      select kind as scope, budget::float8 as budget, spent::float8 as spent,
             (reserved + case when (select admitted from verdict) then ${usdMicros} else 0 end)::float8 as reserved,
             (select admitted from verdict) as admitted,
             (extract(epoch from (select start from period)) * 1000)::float8 as period_start_ms,
             (select id from held) as reservation_id
      from standing
    `),
  ]);
  const rows = result.rows;
  const first = rows[0];
  if (!first) return null;
  const periodStart = new Date(Number(first.period_start_ms));
  const { resetAt } = budgetPeriod(periodStart);
  const standings = rows.map((row) => ({
    scope: row.scope,
    budgetUsdMicros: Number(row.budget),
    spentUsdMicros: Number(row.spent),
    reservedUsdMicros: Number(row.reserved),
  }));
  if (!first.admitted) throw budgetExceeded(standings, usdMicros, resetAt);
  if (!first.reservation_id) throw new Error("An admitted budget reservation has no row");
  return {
    id: first.reservation_id,
    keyId: caller.keyId,
    projectId: caller.project.id,
    periodStart,
    resetAt,
    usdMicros,
    standings,
  };
}

/**
 * A reservation still open, by its id: what a queued generation settles or releases when it
 * finishes, in another request than the one that reserved it. Null once closed.
 */
export async function findBudgetReservation(db: Database, id: string): Promise<BudgetReservation | null> {
  const result = await db.execute<{
    key_id: string;
    project_id: string;
    period_start: string;
    scopes: BudgetScope[];
    usd_micros: number;
  }>(sql`
    select key_id, project_id, period_start, scopes, usd_micros::float8 as usd_micros
    from budget_reservations where id = ${id}
  `);
  const [row] = result.rows;
  if (!row) return null;
  const periodStart = new Date(row.period_start);
  const usdMicros = Number(row.usd_micros);
  return {
    id,
    keyId: row.key_id,
    projectId: row.project_id,
    periodStart,
    resetAt: budgetPeriod(periodStart).resetAt,
    usdMicros,
    // Settling needs only the scopes: what they stand at is read again by the settlement itself.
    standings: row.scopes.map((scope) => ({ scope, budgetUsdMicros: 0, spentUsdMicros: 0, reservedUsdMicros: usdMicros })),
  };
}

/** 402 naming the budget that would be crossed, what it has spent, and when it resets. */
function budgetExceeded(standings: BudgetStanding[], usdMicros: number, resetAt: Date): AppError {
  const crossed = standings.filter((s) => s.spentUsdMicros + s.reservedUsdMicros + usdMicros > s.budgetUsdMicros);
  const limiting = tightest(crossed) ?? (tightest(standings) as BudgetStanding);
  const held = limiting.reservedUsdMicros > 0 ? ` and ${usd(limiting.reservedUsdMicros)} held by running generations` : "";
  return new AppError(
    "BUDGET_EXCEEDED",
    `This request could cost up to ${usd(usdMicros)}, more than is left of the ${limiting.scope}'s monthly budget of ${usd(limiting.budgetUsdMicros)} (${usd(limiting.spentUsdMicros)} spent${held}); the budget resets at ${resetAt.toISOString()}`,
    {
      budget: {
        scope: limiting.scope,
        monthlyBudgetUsd: microsToUsd(limiting.budgetUsdMicros),
        spentUsd: microsToUsd(limiting.spentUsdMicros),
        reservedUsd: microsToUsd(limiting.reservedUsdMicros),
        requestUpToUsd: microsToUsd(usdMicros),
        resetAt: resetAt.toISOString(),
      },
      headers: {
        ...budgetHeaders([limiting], resetAt),
        "X-Budget-Spent-Usd": microsToUsd(limiting.spentUsdMicros).toFixed(6),
      },
    },
  );
}

interface SettledRow extends Record<string, unknown> {
  scope: BudgetScope;
  budget: number | null;
  spent: number;
  threshold_reached: boolean;
}

/** A scope whose spending reached the soft threshold with this settlement (once per period). */
export interface ThresholdReached {
  scope: BudgetScope;
  scopeId: string;
  budgetUsdMicros: number;
  spentUsdMicros: number;
}

/**
 * Turns a reservation into what the generation actually cost (0 to release it), in one
 * statement. The reservation is released only by whoever deletes its row, so never twice, even
 * when maintenance already released it as stale; what was spent is added either way. The first
 * settlement of a period that brings spending to the soft threshold marks it, so the caller
 * audits it exactly once.
 */
async function applySettlement(
  db: Database,
  reservation: BudgetReservation,
  actualUsdMicros: number,
): Promise<ThresholdReached[]> {
  const scopes = reservation.standings.map((standing) => standing.scope);
  const result = await db.execute<SettledRow>(sql`
    with closed as (delete from budget_reservations where id = ${reservation.id} returning usd_micros)
    update budget_periods b
    set reserved_usd_micros = b.reserved_usd_micros - coalesce((select usd_micros from closed), 0),
        spent_usd_micros = b.spent_usd_micros + ${actualUsdMicros},
        threshold_reached_at = coalesce(b.threshold_reached_at,
          case when s.budget is not null and b.spent_usd_micros + ${actualUsdMicros} >= s.budget * ${BUDGET_SOFT_THRESHOLD}::numeric
               then now() end)
    from (
      select 'key' as kind, id, monthly_budget_usd_micros as budget from api_keys where id = ${reservation.keyId}
      union all
      select 'project', id, monthly_budget_usd_micros from projects where id = ${reservation.projectId}
    ) s
    where b.scope_kind = s.kind and b.scope_id = s.id and b.period_start = ${reservation.periodStart.toISOString()}
      and b.scope_kind in (${sql.join(
        scopes.map((scope) => sql`${scope}`),
        sql`, `,
      )})
    returning b.scope_kind as scope, s.budget::float8 as budget, b.spent_usd_micros::float8 as spent,
              b.threshold_reached_at = now() as threshold_reached
  `);
  return result.rows
    .filter((row) => row.threshold_reached && row.budget !== null)
    .map((row) => ({
      scope: row.scope,
      scopeId: row.scope === "key" ? reservation.keyId : reservation.projectId,
      budgetUsdMicros: Number(row.budget),
      spentUsdMicros: Number(row.spent),
    }));
}

/**
 * What the generation service is given to close a reservation: `settle` with the actual cost on
 * success, `release` on failure. Only the first call counts, so no path closes it twice; the
 * statement runs after the response (`defer`), and a reached threshold is audited there.
 */
export interface BudgetSettlement {
  settle(actualUsdMicros: number): void;
  release(): void;
}

export function budgetSettlement(
  deps: { db: Database; defer: (task: () => Promise<unknown>) => void },
  reservation: BudgetReservation,
  context: { organizationId: string; client: ClientInfo },
): BudgetSettlement {
  let closed = false;
  const close = (actualUsdMicros: number) => {
    if (closed) return;
    closed = true;
    deps.defer(async () => {
      try {
        const reached = await applySettlement(deps.db, reservation, actualUsdMicros);
        for (const threshold of reached) await auditThreshold(deps.db, reservation, threshold, context);
      } catch (cause) {
        // The money stays reserved until the period ends: safe for the budget, and the log says why.
        logFailure("budget reservation not settled", cause, {
          keyId: reservation.keyId,
          usdMicros: String(reservation.usdMicros),
        });
      }
    });
  };
  return { settle: (actual) => close(actual), release: () => close(0) };
}

function auditThreshold(
  db: Database,
  reservation: BudgetReservation,
  threshold: ThresholdReached,
  context: { organizationId: string; client: ClientInfo },
) {
  return recordAudit(db, {
    action: "budget.threshold_reached",
    actorKeyId: reservation.keyId,
    target: { type: threshold.scope === "key" ? "api_key" : "project", id: threshold.scopeId },
    organizationId: context.organizationId,
    projectId: reservation.projectId,
    client: context.client,
    metadata: {
      scope: threshold.scope,
      threshold: BUDGET_SOFT_THRESHOLD,
      budgetUsdMicros: threshold.budgetUsdMicros,
      spentUsdMicros: threshold.spentUsdMicros,
      periodStart: reservation.periodStart.toISOString(),
    },
  });
}

/** A budget as GET /api/me shows it. */
export interface BudgetView {
  monthlyBudgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  softThreshold: number;
  thresholdReached: boolean;
  resetAt: string;
}

interface PeriodRow extends Record<string, unknown> {
  scope: BudgetScope;
  spent: number;
  reserved: number;
  threshold_reached: boolean;
}

/** Where the caller's key and project stand against their budgets this month; null where none is set. */
export async function budgetViews(
  db: Database,
  caller: { keyId: string; project: { id: string } | null; budgets: { key: number | null; project: number | null } },
): Promise<{ key: BudgetView | null; project: BudgetView | null }> {
  if (caller.budgets.key === null && caller.budgets.project === null) return { key: null, project: null };
  const { start, resetAt } = budgetPeriod();
  const result = await db.execute<PeriodRow>(sql`
    select scope_kind as scope, spent_usd_micros::float8 as spent, reserved_usd_micros::float8 as reserved,
           threshold_reached_at is not null as threshold_reached
    from budget_periods
    where period_start = ${start.toISOString()}
      and ((scope_kind = 'key' and scope_id = ${caller.keyId})
        or (scope_kind = 'project' and scope_id = ${caller.project?.id ?? null}::uuid))
  `);
  const view = (scope: BudgetScope, budget: number | null): BudgetView | null => {
    if (budget === null) return null;
    const row = result.rows.find((candidate) => candidate.scope === scope);
    const standing = {
      scope,
      budgetUsdMicros: budget,
      spentUsdMicros: Number(row?.spent ?? 0),
      reservedUsdMicros: Number(row?.reserved ?? 0),
    };
    return {
      monthlyBudgetUsd: microsToUsd(budget),
      spentUsd: microsToUsd(standing.spentUsdMicros),
      reservedUsd: microsToUsd(standing.reservedUsdMicros),
      remainingUsd: microsToUsd(remainingOf(standing)),
      softThreshold: BUDGET_SOFT_THRESHOLD,
      thresholdReached: row?.threshold_reached ?? false,
      resetAt: resetAt.toISOString(),
    };
  };
  return { key: view("key", caller.budgets.key), project: view("project", caller.budgets.project) };
}
