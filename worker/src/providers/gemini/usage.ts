import type { GenerateContentResponse, ModalityTokenCount } from "@google/genai";
import type { Modality, TokenCounts } from "../../domain/pricing";
import type { TokenUsage } from "../../domain/usage";

/** The token counts Gemini reports with a response, in the shape every provider reports them. */
export function usageOf(response: GenerateContentResponse): TokenUsage | undefined {
  const usage = response.usageMetadata;
  if (!usage) return undefined;
  return { promptTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount, totalTokens: usage.totalTokenCount };
}

/**
 * The tokens a response is priced by, by direction and modality, or undefined when Gemini
 * reported no usage (then it charged nothing we can know of). `outputModality` is what the
 * model was asked to write (image for the image model, text for the text model).
 */
export function tokensOf(response: GenerateContentResponse, outputModality: Modality): TokenCounts | undefined {
  const usage = response.usageMetadata;
  if (!usage) return undefined;
  // Without the details, the totals are read as what the call was about: the prompt as text
  // (it may hold reference images too, whose input tokens cost what text's do, so the cost is the
  // same), and the candidates as the modality the model was asked for.
  const input = byModality(usage.promptTokensDetails) ?? { text: usage.promptTokenCount ?? 0 };
  const output = byModality(usage.candidatesTokensDetails) ?? { [outputModality]: usage.candidatesTokenCount ?? 0 };
  // Thinking tokens are not among the candidates' yet are billed as text output.
  if (usage.thoughtsTokenCount) output.text = (output.text ?? 0) + usage.thoughtsTokenCount;
  return { input, output };
}

/**
 * Sums Gemini's per-modality counts into the price table's modalities. Only IMAGE is priced as
 * image; text and anything else (we send no audio or video) is priced as text.
 */
function byModality(details: ModalityTokenCount[] | undefined): TokenCounts["input"] | undefined {
  if (!details?.length) return undefined;
  const counts: TokenCounts["input"] = {};
  for (const { modality, tokenCount } of details) {
    const priced: Modality = modality === "IMAGE" ? "image" : "text";
    counts[priced] = (counts[priced] ?? 0) + (tokenCount ?? 0);
  }
  return counts;
}
