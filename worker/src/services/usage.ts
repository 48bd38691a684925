/**
 * Usage of model calls: what each call used and cost, as the rows of `usage_events` and as the
 * `cost` a response reports. Rows are written by the statement that records the outcome they
 * belong to (see generations-repository.ts), never on their own round trip.
 */
import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { billingExports, type NewUsageEvent, type UsageEventKind, usageDaily, usageEvents } from "../db/schema";
import { costMicros, PRICE_VERSION, type Provider, priceOf, type TokenCounts } from "../domain/pricing";
import type { GenerationOwner } from "../lib/access-types";

/** One call of an image model or a prompt enhancer, as it will be recorded. */
export interface ModelCall {
  kind: UsageEventKind;
  provider: Provider;
  model: string;
  tokens: TokenCounts;
  /** The call ended in a failure the provider still charged for (a refusal, an unusable answer). */
  failed: boolean;
}

/** What a response charged: billable calls only, in USD micros, by what they were for. */
export interface Cost {
  usdMicros: number;
  priceVersion: string;
  breakdown: Record<UsageEventKind, number>;
}

/** A call that reported no tokens: the offline stand-ins, which count calls and cost nothing. */
export const NO_TOKENS: TokenCounts = { input: {}, output: {} };

/** The provider a prompt enhancer's calls are priced as: the template enhancer is the offline stand-in. */
export function enhancerProvider(enhancer: "gemini" | "template"): Provider {
  return enhancer === "gemini" ? "gemini" : "preview";
}

/** USD micros of one call, or null when the price table does not know its model (never guessed). */
function priceCall(call: ModelCall): number | null {
  const price = priceOf(call.provider, call.model);
  return price ? costMicros(price, call.tokens) : null;
}

/**
 * The `usage_events` rows of calls made for one request. A call is billable when the request
 * succeeded and the call itself did not fail: the user is never charged for a refusal or an
 * error, though the provider was, and the platform owner sees that cost.
 */
export function usageEventRows(
  caller: GenerationOwner,
  generationId: string | null,
  calls: ModelCall[],
  succeeded: boolean,
): NewUsageEvent[] {
  return calls.map((call) => ({
    organizationId: caller.organization.id,
    projectId: caller.project.id,
    apiKeyId: caller.keyId,
    generationId,
    kind: call.kind,
    provider: call.provider,
    model: call.model,
    inputTextTokens: call.tokens.input.text ?? 0,
    inputImageTokens: call.tokens.input.image ?? 0,
    outputTextTokens: call.tokens.output.text ?? 0,
    outputImageTokens: call.tokens.output.image ?? 0,
    costUsdMicros: priceCall(call),
    priceVersion: PRICE_VERSION,
    billable: succeeded && !call.failed,
  }));
}

/** The cost a response reports: the billable calls of a successful request (an unpriced model counts 0). */
export function billedCost(calls: ModelCall[]): Cost {
  const breakdown: Record<UsageEventKind, number> = { enhancement: 0, generation: 0 };
  for (const call of calls) if (!call.failed) breakdown[call.kind] += priceCall(call) ?? 0;
  return { usdMicros: breakdown.enhancement + breakdown.generation, priceVersion: PRICE_VERSION, breakdown };
}

type DailySums = typeof usageDaily.$inferInsert;

/** The rows' sums by rollup key: one statement may not update the same rollup row twice. */
function dailySums(rows: NewUsageEvent[]): DailySums[] {
  const sums = new Map<string, DailySums>();
  for (const row of rows) {
    const key = [row.apiKeyId, row.provider, row.model, row.billable].join("\u0000");
    const sum = sums.get(key) ?? {
      // The day of the transaction, as the events' own `created_at` default (now()) sees it.
      day: sql`(now() at time zone 'UTC')::date` as unknown as string,
      organizationId: row.organizationId,
      projectId: row.projectId,
      apiKeyId: row.apiKeyId,
      provider: row.provider,
      model: row.model,
      billable: row.billable,
      requests: 0,
      images: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsdMicros: 0,
    };
    sum.requests += 1;
    if (row.kind === "generation") sum.images += 1;
    sum.inputTokens += (row.inputTextTokens ?? 0) + (row.inputImageTokens ?? 0);
    sum.outputTokens += (row.outputTextTokens ?? 0) + (row.outputImageTokens ?? 0);
    sum.costUsdMicros += row.costUsdMicros ?? 0;
    sums.set(key, sum);
  }
  // In one order, so concurrent transactions lock the rollup rows they share in the same order (no deadlock).
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, sum]) => sum);
}

/** `usage_daily.column + excluded.column`: the upsert adds the new sums to the day's. */
const added = (column: string) => sql.raw(`"usage_daily"."${column}" + excluded."${column}"`);

/** Whether billed usage is queued for the billing export: only while the export is on (STRIPE_* set). */
export interface UsageRecording {
  queueForBilling: boolean;
}

/** A usage event the user is charged for: the only kind the billing export sends. */
const isBilled = (row: NewUsageEvent) => row.billable === true && (row.costUsdMicros ?? 0) > 0;

/**
 * The statements that record these usage events, add them to the daily rollup and, while the
 * billing export is on, queue the billed ones for it (billing_exports); put them in the
 * `db.batch` of the outcome they belong to, so all of it commits together (no extra round trip).
 * Empty when there are no events (an empty VALUES is invalid SQL).
 */
export function usageStatements(db: Database, rows: NewUsageEvent[], recording: UsageRecording): BatchItem<"pg">[] {
  if (rows.length === 0) return [];
  // Ids made here, so the queue rows can name their events within the same batch.
  const events = rows.map((row) => ({ ...row, id: row.id ?? crypto.randomUUID() }));
  const queued = recording.queueForBilling ? events.filter(isBilled) : [];
  const rollup = db
    .insert(usageDaily)
    .values(dailySums(rows))
    .onConflictDoUpdate({
      target: [
        usageDaily.day,
        usageDaily.organizationId,
        usageDaily.projectId,
        usageDaily.apiKeyId,
        usageDaily.provider,
        usageDaily.model,
        usageDaily.billable,
      ],
      set: {
        requests: added("requests"),
        images: added("images"),
        inputTokens: added("input_tokens"),
        outputTokens: added("output_tokens"),
        costUsdMicros: added("cost_usd_micros"),
      },
    });
  return [
    db.insert(usageEvents).values(events),
    rollup,
    ...(queued.length > 0
      ? [db.insert(billingExports).values(queued.map((event) => ({ usageEventId: event.id, queuedAt: event.createdAt })))]
      : []),
  ];
}

/** Records usage events on their own (a call with no outcome row to share a batch with). */
export async function recordUsage(db: Database, rows: NewUsageEvent[], recording: UsageRecording): Promise<void> {
  const [first, ...rest] = usageStatements(db, rows, recording);
  if (first) await db.batch([first, ...rest]);
}
