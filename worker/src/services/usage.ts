/**
 * Usage of model calls: what each call used and cost, as the rows of `usage_events` and as the
 * `cost` a response reports. Rows are written by the statement that records the outcome they
 * belong to (see generations-repository.ts), never on their own round trip.
 */
import type { NewUsageEvent, UsageEventKind } from "../db/schema";
import { costMicros, PRICE_VERSION, type Provider, priceOf, type TokenCounts } from "../domain/pricing";
import type { ProjectCaller } from "../lib/access-types";

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
  caller: ProjectCaller,
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
