/**
 * Reference images sent to the image model with a prompt: how they are named to the model, the
 * size they are sent at, and the input tokens they cost (the quote's bound counts both).
 */
import { REFERENCE_MAX_INLINE_BYTES, REFERENCE_MAX_INLINE_SIDE } from "./limits";
import { utf8Bytes } from "./token-bounds";

/** Tokens Gemini counts for one image tile, and the tile's side, for images larger than 384 px. */
const TOKENS_PER_TILE = 258;
const TILE_SIDE = 768;
const SMALL_IMAGE_SIDE = 384;

/** What the model is told about a reference: the alias it was given by, or none. */
export interface ReferenceLabel {
  label: string | null;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * The line before the prompt naming each reference by its place ("image 1 = @hero"), so the
 * prompt's @words can be matched to the images above it; empty without references.
 */
export function referenceLegend(references: readonly ReferenceLabel[]): string {
  if (references.length === 0) return "";
  const names = references.map(({ label }, index) => `image ${index + 1} = ${label ?? "an image without an alias"}`);
  return `Reference images above, in order: ${names.join(", ")}.`;
}

/** The text part the image model receives: the legend line, then the prompt. */
export function promptWithLegend(prompt: string, references: readonly ReferenceLabel[]): string {
  const legend = referenceLegend(references);
  return legend ? `${legend}\n${prompt}` : prompt;
}

/** UTF-8 bytes the legend (and its line break) adds to the prompt. */
export function legendBytes(references: readonly ReferenceLabel[]): number {
  return references.length === 0 ? 0 : utf8Bytes(referenceLegend(references)) + 1;
}

/** Whether a stored reference must be decoded and re-encoded before it is sent. */
export function needsFitting(reference: Size & { bytes: number }): boolean {
  return reference.bytes > REFERENCE_MAX_INLINE_BYTES || Math.max(reference.width, reference.height) > REFERENCE_MAX_INLINE_SIDE;
}

/** The size a reference is sent at: within REFERENCE_MAX_INLINE_SIDE, its ratio kept. */
export function sentSize({ width, height }: Size): Size {
  const scale = Math.min(1, REFERENCE_MAX_INLINE_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Input tokens Gemini counts for an image of this size (ai.google.dev/gemini-api/docs/tokens):
 * 258 when both sides are at most 384 px, otherwise 258 per 768x768 tile it is cut into.
 */
export function imageInputTokens({ width, height }: Size): number {
  if (width <= SMALL_IMAGE_SIDE && height <= SMALL_IMAGE_SIDE) return TOKENS_PER_TILE;
  return Math.ceil(width / TILE_SIDE) * Math.ceil(height / TILE_SIDE) * TOKENS_PER_TILE;
}
