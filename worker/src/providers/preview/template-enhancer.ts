import type { Template } from "../../domain/catalog";
import { capPrompt, TEMPLATE_GUIDES } from "../../domain/enhancement";
import { NO_TOKENS } from "../../domain/token-bounds";
import type { PromptEnhancer } from "../prompt-enhancer";
import { detectLanguage } from "./language";

export const TEMPLATE_ENHANCER_MODEL = "banatie-templates-1";

/**
 * The offline enhancer: appends the template's professional details to the prompt, which stays
 * first and unchanged so the subject is kept. It detects the language for real but cannot
 * translate, and says so (`translated: false`). Deterministic: the same input gives the same output.
 */
export function createTemplateEnhancer(): PromptEnhancer {
  return {
    enhancer: "template",
    model: TEMPLATE_ENHANCER_MODEL,
    // It runs in the Worker: no tokens, no cost.
    tokenBound: () => NO_TOKENS,
    async enhance({ prompt, template }: { prompt: string; template: Template }) {
      const guide = TEMPLATE_GUIDES[template];
      const subject = prompt.trim().replace(/[\s.,;:!]+$/, "");
      return {
        enhancedPrompt: capPrompt(`${subject}, ${guide.fragments.join(", ")}`, prompt),
        detectedLanguage: detectLanguage(prompt),
        translated: false,
        improvements: guide.improvements,
      };
    },
  };
}
