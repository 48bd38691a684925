import type { Schema } from "./api-contract";
import { formatDate } from "./format";

/**
 * Money as the API counts it: USD micros (1,000,000 = $1) in prices, quotes and costs; dollars
 * in budgets and usage amounts. Every amount the site shows goes through formatUsdMicros.
 */
const USD = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  // Micros are whole: six decimals show any amount exactly, so a page never disagrees with the API.
  maximumFractionDigits: 6,
});

/** 39000 -> "$0.039", 1 -> "$0.000001", 2500000 -> "$2.50", 0 -> "$0.00". */
export function formatUsdMicros(micros: number): string {
  return USD.format(micros / 1_000_000);
}

/** A dollar amount of the API (budgets, usage `amount.value`) in whole micros, rounding away float noise. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** What a finished generation cost: "free" when nothing was charged (the preview model, a cached enhancement). */
export function costText(micros: number): string {
  return micros === 0 ? "free" : formatUsdMicros(micros);
}

/** A quote in words: its upper bound ("up to $0.04"), or "free" when the deployment's models cost nothing. */
export function quoteText(quote: Pick<Schema<"Quote">, "usdMicros" | "provider">): string {
  if (quote.usdMicros > 0) return `up to ${formatUsdMicros(quote.usdMicros)}`;
  return quote.provider === "preview" ? "free (offline preview model)" : "free";
}

/** The price of one image, from GET /api/info's pricing, so the site never hard-codes a price. */
export function imagePriceText(pricing: Schema<"Pricing">): string {
  if (pricing.provider === "preview")
    return "This installation runs the offline preview model: images are free. Prices apply once it generates with Gemini.";
  return `One image from ${pricing.image.model} costs ${formatUsdMicros(pricing.image.usdMicros)} (${pricing.image.outputTokens} output tokens, prices of ${pricing.priceVersion}); enhancement adds its text-model tokens.`;
}

/** The budget a 402 BUDGET_EXCEEDED problem names. */
export type BudgetProblem = NonNullable<Schema<"Problem">["budget"]>;

/** A BUDGET_EXCEEDED problem's budget in one sentence: its size, what is spent and held, the request's bound, the reset. */
export function budgetProblemText(budget: BudgetProblem): string {
  const held = budget.reservedUsd > 0 ? `, ${formatUsdMicros(usdToMicros(budget.reservedUsd))} held by running generations` : "";
  return `The ${budget.scope}'s monthly budget is ${formatUsdMicros(usdToMicros(budget.monthlyBudgetUsd))}: ${formatUsdMicros(usdToMicros(budget.spentUsd))} spent${held}; this request could cost up to ${formatUsdMicros(usdToMicros(budget.requestUpToUsd))}. It resets ${formatDate(budget.resetAt)}.`;
}
