/** Tokens a model call used, as providers report them and generations record them. */
export interface TokenUsage {
  promptTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}
