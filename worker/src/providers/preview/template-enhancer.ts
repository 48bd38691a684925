import { capPrompt, TEMPLATE_GUIDES } from "../../domain/enhancement";
import { NO_TOKENS } from "../../domain/token-bounds";
import type { EnhanceRequest, PromptEnhancer } from "../prompt-enhancer";
import { detectLanguage } from "./language";

export const TEMPLATE_ENHANCER_MODEL = "banatie-templates-1";

/** Template details that would restage the subject (its backdrop), which an edit of a reference keeps. */
const RESTAGING = /\b(background|backdrop)\b/;
const WITH_REFERENCES = "consistent with the reference image";

/**
 * The offline enhancer: appends the template's professional details to the prompt, which stays
 * first and unchanged so the subject is kept. It detects the language for real but cannot
 * translate, and says so (`translated: false`). Deterministic: the same input gives the same output.
 * With references it asks for consistency with them, and leaves out the details that would
 * replace their background.
 */
export function createTemplateEnhancer(): PromptEnhancer {
  return {
    enhancer: "template",
    model: TEMPLATE_ENHANCER_MODEL,
    // It runs in the Worker: no tokens, no cost.
    tokenBound: () => NO_TOKENS,
    async enhance({ prompt, template, references = [] }: EnhanceRequest) {
      const guide = TEMPLATE_GUIDES[template];
      const subject = prompt.trim().replace(/[\s.,;:!]+$/, "");
      const fragments =
        references.length === 0
          ? guide.fragments
          : [
              `${WITH_REFERENCES}${references.length === 1 ? "" : "s"}`,
              ...guide.fragments.filter((fragment) => !RESTAGING.test(fragment)),
            ];
      return {
        enhancedPrompt: capPrompt(`${subject}, ${fragments.join(", ")}`, prompt),
        detectedLanguage: detectLanguage(prompt),
        translated: false,
        improvements: guide.improvements,
      };
    },
  };
}
