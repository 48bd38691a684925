import type { AspectRatio } from "../domain/catalog";
import type { TokenCounts } from "../domain/pricing";
import type { ReferenceLabel, Size } from "../domain/references";
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

/**
 * An image the model gets with the prompt, already fitted for sending (services/references.ts):
 * the bytes are PNG, JPEG or WebP as `mimeType` says, of this size.
 */
export interface ReferenceImage extends ReferenceLabel, Size {
  bytes: Uint8Array;
  mimeType: string;
}

/** What the quote knows of a reference before reading it: its stored size and its label. */
export type ReferenceShape = ReferenceLabel & Size;

export interface ImageRequest {
  prompt: string;
  aspectRatio: AspectRatio;
  /** Images to edit or compose from, in the order the prompt's legend names them; none by default. */
  references?: readonly ReferenceImage[];
}

/** Turns a prompt (and reference images) into an image. Adapters: Gemini, and the offline preview model. */
export interface ImageModel {
  provider: "gemini" | "preview";
  model: string;
  /**
   * Throws AppError: CONTENT_BLOCKED, NO_IMAGE or an UPSTREAM_* failure, with `chargedTokens`
   * when the model answered (and was paid) before the call failed.
   */
  generate(request: ImageRequest): Promise<GeneratedImage>;
  /**
   * The most tokens one successful call with a prompt of at most `promptBytes` UTF-8 bytes, and
   * these references (by their stored size), is billed for.
   */
  tokenBound(promptBytes: number, references?: readonly ReferenceShape[]): TokenCounts;
  /**
   * Resolves when the model's service answers and knows the model, at no cost: it never
   * generates. For the deep health check; throws otherwise.
   */
  checkReachable(signal: AbortSignal): Promise<void>;
}
