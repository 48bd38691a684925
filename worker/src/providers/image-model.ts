import type { AspectRatio } from "../domain/catalog";
import type { TokenCounts } from "../domain/pricing";
import type { TokenUsage } from "../domain/usage";

export interface GeneratedImage {
  bytes: Uint8Array;
  mimeType: string;
  /** Text the model sent along with the image, if any. */
  text?: string;
  usage?: TokenUsage;
  /** What the call is priced by; absent when the provider reported no usage. */
  tokens?: TokenCounts;
  /** Calls made to produce it, retries included. */
  attempts: number;
}

/** Turns a prompt into an image. Adapters: Gemini, and the offline preview model. */
export interface ImageModel {
  provider: "gemini" | "preview";
  model: string;
  /**
   * Throws AppError: CONTENT_BLOCKED, NO_IMAGE or an UPSTREAM_* failure, with `chargedTokens`
   * when the model answered (and was paid) before the call failed.
   */
  generate(request: { prompt: string; aspectRatio: AspectRatio }): Promise<GeneratedImage>;
  /** The most tokens one successful call with a prompt of at most `promptBytes` UTF-8 bytes is billed for. */
  tokenBound(promptBytes: number): TokenCounts;
  /**
   * Resolves when the model's service answers and knows the model, at no cost: it never
   * generates. For the deep health check; throws otherwise.
   */
  checkReachable(signal: AbortSignal): Promise<void>;
}
