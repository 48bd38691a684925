import type { Template } from "../domain/catalog";
import type { Improvement } from "../domain/enhancement";
import type { TokenCounts } from "../domain/pricing";
import type { ReferenceLabel } from "../domain/references";
import type { TokenUsage } from "../domain/usage";

export interface EnhancedPrompt {
  enhancedPrompt: string;
  /** ISO 639-1 code of the prompt's language, or null when it cannot be told. */
  detectedLanguage: string | null;
  /** Whether the enhanced prompt was translated to English. */
  translated: boolean;
  improvements: Improvement[];
  usage?: TokenUsage;
  /** What the text-model call is priced by; absent for the template enhancer and the cache. */
  tokens?: TokenCounts;
}

export interface EnhanceRequest {
  prompt: string;
  template: Template;
  /**
   * The reference images the image model will get with the prompt, in order. The enhancer never
   * sees them; it is told they exist so it keeps the prompt an edit of them. None by default.
   */
  references?: readonly ReferenceLabel[];
}

/** Improves a prompt for image generation. Adapters: a Gemini text model, and offline templates. */
export interface PromptEnhancer {
  enhancer: "gemini" | "template";
  model: string;
  enhance(request: EnhanceRequest): Promise<EnhancedPrompt>;
  /** The most tokens one `enhance` call with this request can be billed for. */
  tokenBound(request: EnhanceRequest): TokenCounts;
}
