/**
 * What was used and spent, by UTC day, read from the daily rollups (usage_daily) so that a
 * month of a million events is a few hundred rows. Ranges are whole UTC days: the rollups
 * know nothing finer, and a whole-day range is what a bill or a chart asks for.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";

export const USAGE_GROUPS = ["day", "key", "project", "model"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageFilter {
  /** First UTC day included, YYYY-MM-DD. */
  from: string;
  /** First UTC day excluded, YYYY-MM-DD. */
  to: string;
  groupBy: UsageGroup;
  projectId?: string;
  keyId?: string;
  /** The platform owner's view: also the cost of calls the user is not charged for. */
  includeNonBillable: boolean;
}

export interface UsageSums {
  /** Image-model calls. */
  images: number;
  /** Model calls of any kind. */
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costUsdMicros: number;
}

/** One line of a day: billable sums, and what was not billed when the caller may see it. */
export interface UsageLine extends UsageSums {
  projectId: string | null;
  apiKeyId: string | null;
  model: string | null;
  nonBillable?: { requests: number; costUsdMicros: number };
}

export interface UsageDay {
  day: string;
  lines: UsageLine[];
}

const GROUP_COLUMN: Record<UsageGroup, SQL | null> = {
  day: null,
  key: sql`api_key_id::text`,
  project: sql`project_id::text`,
  model: sql`model`,
};

type SumsRow = {
  day: string;
  grouped: string | null;
  images: string;
  requests: string;
  input_tokens: string;
  output_tokens: string;
  cost: string;
  non_billable_requests: string;
  non_billable_cost: string;
};

/** Every day of [from, to), YYYY-MM-DD. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = new Date(`${from}T00:00:00Z`); day < new Date(`${to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) {
    days.push(day.toISOString().slice(0, 10));
  }
  return days;
}

/** The usage of each day of the range, every day listed (an empty day has no lines), in one query. */
export async function usageByDay(db: Database, filter: UsageFilter): Promise<UsageDay[]> {
  const grouped = GROUP_COLUMN[filter.groupBy] ?? sql`null::text`;
  const conditions = [sql`day >= ${filter.from}::date`, sql`day < ${filter.to}::date`];
  if (filter.projectId) conditions.push(sql`project_id = ${filter.projectId}`);
  if (filter.keyId) conditions.push(sql`api_key_id = ${filter.keyId}`);
  // A caller who sees billable usage only sees no line made only of calls they were not charged for.
  const visible = filter.includeNonBillable ? sql`true` : sql`bool_or(billable)`;
  const result = await db.execute<SumsRow>(sql`
    select day::text as day, ${grouped} as grouped,
           coalesce(sum(images) filter (where billable), 0) as images,
           coalesce(sum(requests) filter (where billable), 0) as requests,
           coalesce(sum(input_tokens) filter (where billable), 0) as input_tokens,
           coalesce(sum(output_tokens) filter (where billable), 0) as output_tokens,
           coalesce(sum(cost_usd_micros) filter (where billable), 0) as cost,
           coalesce(sum(requests) filter (where not billable), 0) as non_billable_requests,
           coalesce(sum(cost_usd_micros) filter (where not billable), 0) as non_billable_cost
    from usage_daily
    where ${sql.join(conditions, sql` and `)}
    group by 1, 2
    having ${visible}
    order by 1, 2
  `);
  const byDay = new Map(daysOf(filter.from, filter.to).map((day) => [day, [] as UsageLine[]]));
  for (const row of result.rows) {
    byDay.get(row.day)?.push({
      projectId: filter.groupBy === "project" ? row.grouped : null,
      apiKeyId: filter.groupBy === "key" ? row.grouped : null,
      model: filter.groupBy === "model" ? row.grouped : null,
      images: Number(row.images),
      requests: Number(row.requests),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      costUsdMicros: Number(row.cost),
      ...(filter.includeNonBillable
        ? { nonBillable: { requests: Number(row.non_billable_requests), costUsdMicros: Number(row.non_billable_cost) } }
        : {}),
    });
  }
  return [...byDay].map(([day, lines]) => ({ day, lines }));
}

/** The longest range one query may ask for: a year, leap day included. */
export const MAX_USAGE_RANGE_DAYS = 366;

const DAY_MS = 86_400_000;

/** YYYY-MM-DD of a UTC date or of a datetime at 00:00 UTC; null for anything else (a partial day). */
export function utcDayOf(value: string): string | null {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime()) || date.getTime() % DAY_MS !== 0) return null;
  return date.toISOString().slice(0, 10);
}

/**
 * The range a query asks for, in whole UTC days, [from, to): by default the current UTC month.
 * Returns the field at fault when the range is empty or longer than MAX_USAGE_RANGE_DAYS.
 */
export function usageRange(
  query: { from?: string; to?: string },
  now = new Date(),
): { from: string; to: string } | { field: "to"; message: string } {
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const nextMonthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const from = query.from ? (utcDayOf(query.from) as string) : new Date(monthStart).toISOString().slice(0, 10);
  const to = query.to ? (utcDayOf(query.to) as string) : new Date(nextMonthStart).toISOString().slice(0, 10);
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
  if (days <= 0) return { field: "to", message: `must be after from (${from})` };
  if (days > MAX_USAGE_RANGE_DAYS) return { field: "to", message: `must be at most ${MAX_USAGE_RANGE_DAYS} days after from` };
  return { from, to };
}
