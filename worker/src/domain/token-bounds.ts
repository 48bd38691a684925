/**
 * Upper bounds of the tokens a model call can use, for quotes that must never come in under
 * what the call then costs.
 *
 * A text of N UTF-8 bytes is at most N tokens: Gemini's tokenizer (SentencePiece with byte
 * fallback) gives every token at least one whole character or one byte of one, and a character
 * is at least one byte. Each call adds a few tokens of its own (turn and role markers), which
 * FRAMING_TOKENS covers many times over. Reference images are counted by Google's own rule, on
 * the size they are sent at (imageInputTokens in domain/references.ts).
 */
import type { TokenCounts } from "./pricing";

/** What a model that runs in the Worker uses. */
export const NO_TOKENS: TokenCounts = { input: {}, output: {} };

/** Tokens a request adds around the texts it sends. */
export const FRAMING_TOKENS = 32;

/** Bytes of a text in UTF-8, the tokenizer's input. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** The most tokens one call sending these texts can be billed for as input. */
export function inputTokenBound(bytes: number): number {
  return bytes + FRAMING_TOKENS;
}
