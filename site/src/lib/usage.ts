import type { ApiBody, Schema } from "./api-contract";
import { formatDate } from "./format";
import { formatUsdMicros, usdToMicros } from "./money";

/** GET /api/usage's page: one bucket per UTC day, each with its results. */
export type UsagePage = ApiBody<"getUsage", 200>["data"];

/** One UTC day of usage, money in micros. */
export interface UsageDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  images: number;
  requests: number;
  usdMicros: number;
}

/** Usage summed by a key or a project. */
export interface UsageShare {
  id: string;
  images: number;
  requests: number;
  usdMicros: number;
}

const DAY_MS = 86_400_000;

/** "2026-12" for the UTC month of `now`. */
export function utcMonth(now: Date = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/** The API's range for a month: `from` its first UTC day, `to` the first day of the next month. */
export function monthRange(month: string): { from: string; to: string } {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  const next = new Date(Date.UTC(year, monthNumber, 1));
  return { from: `${month}-01`, to: next.toISOString().slice(0, 10) };
}

/** "December 2026" for "2026-12", in UTC, as the API counts months. */
export function monthName(month: string): string {
  return new Date(`${month}-01T00:00:00Z`).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}

/** Every UTC day from `from` (included) to `to` (excluded). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`); time < Date.parse(`${to}T00:00:00Z`); time += DAY_MS)
    days.push(new Date(time).toISOString().slice(0, 10));
  return days;
}

function addResult(target: { images: number; requests: number; usdMicros: number }, result: Schema<"UsageResult">) {
  target.images += result.images;
  target.requests += result.requests;
  target.usdMicros += usdToMicros(result.amount.value);
}

/** Each day of the range with its sums, days without usage included as zeros, whatever the page's grouping. */
export function dailySeries(page: UsagePage, from: string, to: string): UsageDay[] {
  const days = new Map(daysBetween(from, to).map((day) => [day, { day, images: 0, requests: 0, usdMicros: 0 }]));
  for (const bucket of page.data) {
    const day = days.get(new Date(bucket.start_time * 1000).toISOString().slice(0, 10));
    if (day) for (const result of bucket.results) addResult(day, result);
  }
  return [...days.values()];
}

/** The days of a series up to `today` (UTC, included): a month in progress has no figures for days to come. */
export function elapsedDays(series: UsageDay[], today: string = new Date().toISOString().slice(0, 10)): UsageDay[] {
  return series.filter((day) => day.day <= today);
}

/** Sums of a series. */
export function totalOf(series: UsageDay[]): { images: number; requests: number; usdMicros: number } {
  const total = { images: 0, requests: 0, usdMicros: 0 };
  for (const day of series) {
    total.images += day.images;
    total.requests += day.requests;
    total.usdMicros += day.usdMicros;
  }
  return total;
}

/**
 * The keys or projects of a page grouped by `key` or `project`, summed over its days, the
 * biggest spenders first (then the most images), at most `limit` of them.
 */
export function topShares(page: UsagePage, by: "api_key_id" | "project_id", limit = 10): UsageShare[] {
  const shares = new Map<string, UsageShare>();
  for (const bucket of page.data)
    for (const result of bucket.results) {
      const id = result[by];
      if (!id) continue;
      const share = shares.get(id) ?? { id, images: 0, requests: 0, usdMicros: 0 };
      addResult(share, result);
      shares.set(id, share);
    }
  return [...shares.values()]
    .sort((a, b) => b.usdMicros - a.usdMicros || b.images - a.images || a.id.localeCompare(b.id))
    .slice(0, limit);
}

/** Where one monthly budget stands, ready for a <meter> and its text equivalent. */
export interface BudgetGauge {
  limitMicros: number;
  spentMicros: number;
  /** Spent, as a whole percentage of the budget (over 100 when a settlement went past it). */
  percent: number;
  /** The soft threshold as a share of the limit, where the meter turns to a warning. */
  warnAtMicros: number;
  text: string;
}

/** A budget of GET /api/me as a gauge: "$0.04 of $1.00 spent (4%), $0.96 left; resets …". */
export function budgetGauge(budget: NonNullable<Schema<"Budget">>): BudgetGauge {
  const limitMicros = usdToMicros(budget.monthlyBudgetUsd);
  const spentMicros = usdToMicros(budget.spentUsd);
  const reservedMicros = usdToMicros(budget.reservedUsd);
  const percent = limitMicros > 0 ? Math.round((spentMicros / limitMicros) * 100) : 100;
  const held = reservedMicros > 0 ? `, ${formatUsdMicros(reservedMicros)} held by running generations` : "";
  const warning = budget.thresholdReached ? ` Past the ${Math.round(budget.softThreshold * 100)}% warning threshold.` : "";
  return {
    limitMicros,
    spentMicros,
    percent,
    warnAtMicros: Math.round(limitMicros * budget.softThreshold),
    text: `${formatUsdMicros(spentMicros)} of ${formatUsdMicros(limitMicros)} spent (${percent}%)${held}, ${formatUsdMicros(usdToMicros(budget.remainingUsd))} left; resets ${formatDate(budget.resetAt)}.${warning}`,
  };
}

/** The file name the API's Content-Disposition gives, or a fallback for the range. */
export function csvFileName(contentDisposition: string | null, from: string, to: string): string {
  const name = contentDisposition?.match(/filename="?([^";]+)"?/)?.[1];
  // Only a plain file name: a header is not trusted to pick folders.
  return name && /^[\w.-]+$/.test(name) ? name : `usage-${from}-${to}.csv`;
}
