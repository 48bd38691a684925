/**
 * What model calls cost, versioned in code: every usage record stores the PRICE_VERSION it was
 * priced with, so a later change of prices never rewrites what was spent. Prices are integers in
 * USD micros (1e-6 USD) per million tokens, so the table holds Google's published rates exactly
 * ($0.30 per 1M tokens is 300,000) and no float ever touches money.
 *
 * Change a price only with a new PRICE_VERSION (the date it took effect) and the source.
 */

/** The table's version: the date its prices took effect. */
export const PRICE_VERSION = "2025-10-01";

export type Modality = "text" | "image";
export type Provider = "gemini" | "preview";

/** USD micros per 1,000,000 tokens, for tokens going in and coming out, by modality. */
export interface ModelPrice {
  input: Record<Modality, number>;
  output: Record<Modality, number>;
}

const FREE: ModelPrice = { input: { text: 0, image: 0 }, output: { text: 0, image: 0 } };

/**
 * Google's published paid-tier rates (ai.google.dev/gemini-api/docs/pricing, standard, not
 * batch). Gemini 2.5 Flash Image writes 1290 tokens per image: $30 per 1M output image tokens is
 * about $0.039 an image. Thinking tokens of gemini-2.5-flash are billed as text output.
 */
export const PRICES: Record<Provider, Record<string, ModelPrice>> = {
  gemini: {
    "gemini-2.5-flash-image": {
      input: { text: 300_000, image: 300_000 },
      output: { text: 2_500_000, image: 30_000_000 },
    },
    "gemini-2.5-flash": {
      input: { text: 300_000, image: 300_000 },
      output: { text: 2_500_000, image: 2_500_000 },
    },
  },
  // The offline preview model and the template enhancer run in the Worker: they cost nothing,
  // and every response that used them says `provider: "preview"`.
  preview: {},
};

/** Tokens of one model call by direction and modality, as `usageMetadata` details them. */
export interface TokenCounts {
  input: Partial<Record<Modality, number>>;
  output: Partial<Record<Modality, number>>;
}

/** Tokens Gemini 2.5 Flash Image writes for one image, whatever its aspect ratio. */
export const IMAGE_OUTPUT_TOKENS = 1290;

/** The price of a model, or null when the table does not know it (never guess a price). */
export function priceOf(provider: Provider, model: string): ModelPrice | null {
  if (provider === "preview") return FREE;
  return PRICES[provider][model] ?? null;
}

/** USD micros for these tokens at this price, rounded up per line so nothing is under-billed. */
export function costMicros(price: ModelPrice, tokens: TokenCounts): number {
  let micros = 0;
  for (const direction of ["input", "output"] as const) {
    for (const modality of ["text", "image"] as const) {
      const count = tokens[direction][modality] ?? 0;
      micros += Math.ceil((count * price[direction][modality]) / 1_000_000);
    }
  }
  return micros;
}
