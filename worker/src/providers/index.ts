import type { Config } from "../config";
import { createGeminiClient } from "./gemini/client";
import { createGeminiImageModel } from "./gemini/image-model";
import { createGeminiPromptEnhancer } from "./gemini/prompt-enhancer";
import type { ImageModel } from "./image-model";
import { createPreviewImageModel } from "./preview/image-model";
import { createTemplateEnhancer } from "./preview/template-enhancer";
import type { PromptEnhancer } from "./prompt-enhancer";

/**
 * Gemini when a key is configured, the offline models otherwise. The choice is made once per
 * configuration: with a key, a Gemini failure is reported, never replaced by the preview.
 */
export function createModels(gemini: Config["gemini"]): { imageModel: ImageModel; enhancer: PromptEnhancer } {
  if (!gemini.apiKey) return { imageModel: createPreviewImageModel(), enhancer: createTemplateEnhancer() };
  const client = createGeminiClient({ ...gemini, apiKey: gemini.apiKey });
  return {
    imageModel: createGeminiImageModel(client, gemini.imageModel),
    enhancer: createGeminiPromptEnhancer(client, gemini.textModel),
  };
}
