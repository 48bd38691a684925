import type { Template } from "./catalog";

/** What an enhancement may claim to have improved; clients show these as tags. */
export const IMPROVEMENTS = [
  "subject detail",
  "lighting",
  "composition",
  "style",
  "color",
  "camera",
  "mood",
  "background",
  "texture",
  "quality",
  "translation",
] as const;
export type Improvement = (typeof IMPROVEMENTS)[number];

/** An enhanced prompt never grows past this; Gemini's image prompts gain nothing beyond it. */
export const MAX_ENHANCED_PROMPT_LENGTH = 1500;

export interface TemplateGuide {
  /** How the text model should write for this template. */
  instruction: string;
  /** What the offline template enhancer appends. */
  fragments: string[];
  improvements: Improvement[];
}

export const TEMPLATE_GUIDES: Record<Template, TemplateGuide> = {
  general: {
    instruction:
      "Add concrete visual detail, a clear composition, fitting lighting and a coherent style, without changing the subject.",
    fragments: ["highly detailed", "balanced composition", "soft natural lighting", "vivid but natural colors", "sharp focus"],
    improvements: ["subject detail", "composition", "lighting", "color", "quality"],
  },
  photorealistic: {
    instruction: "Describe a professional photograph: lens and aperture, lighting setup, depth of field, realistic textures.",
    fragments: [
      "photorealistic photograph",
      "natural soft lighting",
      "shot on a 50mm lens at f/2.8",
      "shallow depth of field",
      "realistic textures",
      "8k detail",
    ],
    improvements: ["style", "lighting", "camera", "texture", "quality"],
  },
  illustration: {
    instruction: "Describe an illustration: the medium and technique, line quality, palette and the illustrator's style.",
    fragments: [
      "digital illustration",
      "clean confident linework",
      "harmonious color palette",
      "painterly shading",
      "storybook composition",
    ],
    improvements: ["style", "color", "texture", "composition"],
  },
  minimalist: {
    instruction: "Describe a minimalist image: a single clear subject, generous negative space, few colors, simple shapes.",
    fragments: [
      "minimalist design",
      "single focal subject",
      "generous negative space",
      "limited color palette",
      "clean flat background",
    ],
    improvements: ["composition", "color", "background", "style"],
  },
  sticker: {
    instruction:
      "Describe a sticker: bold outline, bright flat colors, a cute expressive subject, white border, plain background.",
    fragments: [
      "die-cut sticker",
      "bold clean outline",
      "bright flat colors",
      "cute expressive character",
      "thick white border",
      "plain white background",
    ],
    improvements: ["style", "color", "background", "composition"],
  },
  product: {
    instruction: "Describe commercial product photography: studio lighting, clean backdrop, sharp detail, the product as hero.",
    fragments: [
      "commercial product photography",
      "three-point studio lighting",
      "seamless neutral backdrop",
      "crisp reflections",
      "product centered as the hero",
      "high detail",
    ],
    improvements: ["lighting", "background", "composition", "camera", "quality"],
  },
  comic: {
    instruction: "Describe a comic-book panel: inked outlines, halftone shading, dynamic pose and framing, punchy colors.",
    fragments: ["comic book art", "bold inked outlines", "halftone shading", "dynamic angle", "punchy saturated colors"],
    improvements: ["style", "composition", "color", "mood"],
  },
};

/**
 * The most UTF-8 bytes the prompt can have after enhancement (see capPrompt): a UTF-16 code unit
 * is at most 3 bytes in UTF-8 (a pair of them, 4). It also bounds the original prompt, which the
 * image model gets when the enhancer fails.
 */
export function maxEnhancedPromptBytes(original: string): number {
  return 3 * Math.max(MAX_ENHANCED_PROMPT_LENGTH, original.length);
}

/**
 * Cuts an enhanced prompt at a word boundary to the cap, or to the original's length when the
 * user already wrote more than that: enhancement adds detail, it never cuts what the user wrote.
 */
export function capPrompt(prompt: string, original: string): string {
  const limit = Math.max(MAX_ENHANCED_PROMPT_LENGTH, original.length);
  if (prompt.length <= limit) return prompt;
  const cut = prompt.slice(0, limit);
  const lastSpace = cut.lastIndexOf(" ");
  return (lastSpace > limit * 0.8 ? cut.slice(0, lastSpace) : cut).replace(/[\s,;:]+$/, "");
}
