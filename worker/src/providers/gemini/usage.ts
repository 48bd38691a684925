import type { GenerateContentResponse } from "@google/genai";
import type { TokenUsage } from "../../domain/usage";

/** The token counts Gemini reports with a response, in the shape every provider reports them. */
export function usageOf(response: GenerateContentResponse): TokenUsage | undefined {
  const usage = response.usageMetadata;
  if (!usage) return undefined;
  return { promptTokens: usage.promptTokenCount, outputTokens: usage.candidatesTokenCount, totalTokens: usage.totalTokenCount };
}
