/**
 * Monthly budgets: a key's or project's cap on spending, in USD micros, per calendar month (UTC).
 * Clients give dollars (`monthlyBudgetUsd`, at most two decimals); storage keeps integer micros.
 */

export const USD_MICROS = 1_000_000;
/** The largest monthly budget a key or project may have, in USD. */
export const MAX_MONTHLY_BUDGET_USD = 1_000_000;
/** The share of a budget whose spending is recorded once per period in the audit trail. */
export const BUDGET_SOFT_THRESHOLD = 0.8;

export type BudgetScope = "key" | "project";

export function usdToMicros(usd: number): number {
  return Math.round(usd * USD_MICROS);
}

export function microsToUsd(micros: number): number {
  return micros / USD_MICROS;
}

/** True when a dollar amount has at most two decimals (whole cents), despite binary floats. */
export function isWholeCents(usd: number): boolean {
  return Math.abs(usd * 100 - Math.round(usd * 100)) < 1e-6;
}

/** The budget period a moment falls in: its calendar month in UTC, and when the next one starts. */
export function budgetPeriod(now = new Date()): { start: Date; resetAt: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const resetAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, resetAt };
}
