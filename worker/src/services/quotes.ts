import type { Template } from "../domain/catalog";
import { maxEnhancedPromptBytes } from "../domain/enhancement";
import { costMicros, PRICE_VERSION, type Provider, priceOf, type TokenCounts } from "../domain/pricing";
import { utf8Bytes } from "../domain/token-bounds";
import { AppError } from "../lib/errors";
import type { ImageModel, ReferenceShape } from "../providers/image-model";
import type { PromptEnhancer } from "../providers/prompt-enhancer";

/** What a generation would cost at most, before anything is spent (Ideogram's `dry_run`). */
export interface Quote {
  /** An upper bound in USD micros: the generation, once made, never costs more. */
  usdMicros: number;
  qualifier: "estimate";
  priceVersion: string;
  breakdown: { enhancement: number; generation: number };
  provider: Provider;
  models: { image: string; enhancement: string | null };
}

export interface QuoteRequest {
  prompt: string;
  autoEnhance: boolean;
  template: Template;
  /** Reference images by their stored size and label, in order; none by default. */
  references?: readonly ReferenceShape[];
}

/** USD micros for these tokens of this model; a model without a price is a misconfiguration. */
function priced(provider: Provider, model: string, tokens: TokenCounts): number {
  const price = priceOf(provider, model);
  if (!price) {
    throw new AppError(
      "CONFIGURATION_ERROR",
      `The model ${model} has no price in price table ${PRICE_VERSION}, so nothing can be quoted`,
    );
  }
  return costMicros(price, tokens);
}

/**
 * The most a generation of this request can cost with these models: the enhancer's call at its
 * output cap, then the image model's call on the longest prompt enhancement can produce, with the
 * legend naming the references and the tiles of each reference at the size it is sent at. It calls
 * no model and reads nothing. A prompt-cache hit would make enhancement free; a bound counts it.
 */
export function quoteGeneration(models: { imageModel: ImageModel; enhancer: PromptEnhancer }, request: QuoteRequest): Quote {
  const { imageModel, enhancer } = models;
  const { prompt, template, references = [] } = request;
  const enhancerProvider: Provider = enhancer.enhancer === "gemini" ? "gemini" : "preview";
  const enhancement = request.autoEnhance
    ? priced(enhancerProvider, enhancer.model, enhancer.tokenBound({ prompt, template, references }))
    : 0;
  // When enhancement fails the original prompt is sent, which the enhanced bound covers too.
  const promptBytes = request.autoEnhance ? maxEnhancedPromptBytes(prompt) : utf8Bytes(prompt);
  const generation = priced(imageModel.provider, imageModel.model, imageModel.tokenBound(promptBytes, references));
  return {
    usdMicros: enhancement + generation,
    qualifier: "estimate",
    priceVersion: PRICE_VERSION,
    breakdown: { enhancement, generation },
    provider: imageModel.provider,
    models: { image: imageModel.model, enhancement: request.autoEnhance ? enhancer.model : null },
  };
}
