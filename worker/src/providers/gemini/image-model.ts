import type { ContentListUnion } from "@google/genai";
import { IMAGE_OUTPUT_TOKENS, type TokenCounts } from "../../domain/pricing";
import { imageInputTokens, legendBytes, promptWithLegend, sentSize } from "../../domain/references";
import { inputTokenBound } from "../../domain/token-bounds";
import { decodeBase64, encodeBase64 } from "../../lib/base64";
import { AppError } from "../../lib/errors";
import type { ImageModel, ImageRequest, ReferenceShape } from "../image-model";
import type { GeminiClient } from "./client";
import { tokensOf, usageOf } from "./usage";

/** Finish reasons by which Gemini withholds an image for safety or policy. */
const BLOCKING_FINISH_REASONS = new Set([
  "SAFETY",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "IMAGE_OTHER",
]);
const MAX_MODEL_TEXT = 500;
/**
 * Text the image model may write beside the image (it is asked for IMAGE only, and writes little
 * or none). The request sets no maxOutputTokens: a cap that an image's tokens ever outgrew would
 * cost the image, so this allowance is an estimate where the rest of the bound is a cap.
 */
export const IMAGE_CALL_TEXT_ALLOWANCE = 512;

/**
 * What the model reads. A prompt alone goes as a plain text, as it always has. With references,
 * one user turn holds the images first, in order, and then one text (the legend naming them,
 * then the prompt): Google's composition examples put the instruction after the images.
 */
function contentsOf({ prompt, references = [] }: ImageRequest): ContentListUnion {
  if (references.length === 0) return prompt;
  const images = references.map(({ bytes, mimeType }) => ({ inlineData: { mimeType, data: encodeBase64(bytes) } }));
  return [{ role: "user", parts: [...images, { text: promptWithLegend(prompt, references) }] }];
}

/** Input tokens of the references, counted on the size they are sent at (services/references.ts fits them). */
function referenceTokens(references: readonly ReferenceShape[]): number {
  return references.reduce((sum, reference) => sum + imageInputTokens(sentSize(reference)), 0);
}

/** Images arrive as megabytes of base64. */
function decodeImageData(data: string, chargedTokens: TokenCounts | undefined): Uint8Array {
  try {
    return decodeBase64(data);
  } catch (cause) {
    throw new AppError("UPSTREAM_BAD_RESPONSE", "The model's image data is not valid base64", { cause, chargedTokens });
  }
}

/** Gemini 2.5 Flash Image through @google/genai; the aspect ratio goes in `imageConfig`. */
export function createGeminiImageModel(client: GeminiClient, model: string): ImageModel {
  return {
    provider: "gemini",
    model,
    checkReachable: (signal) => client.getModel(model, signal),
    // One call is billed: retries follow calls that failed, which Google does not bill. (A call
    // abandoned at our timeout may still be billed upstream; it reports no usage to record.)
    tokenBound: (promptBytes, references = []) => ({
      input: {
        text: inputTokenBound(promptBytes + legendBytes(references)),
        ...(references.length > 0 ? { image: referenceTokens(references) } : {}),
      },
      output: { image: IMAGE_OUTPUT_TOKENS, text: IMAGE_CALL_TEXT_ALLOWANCE },
    }),
    async generate(request) {
      const { response, attempts } = await client.generateContent({
        model,
        contents: contentsOf(request),
        config: { responseModalities: ["IMAGE"], imageConfig: { aspectRatio: request.aspectRatio } },
      });

      // From here on the model has answered: a refusal was still paid for, and says so.
      const tokens = tokensOf(response, "image");
      const charged = { chargedTokens: tokens };
      const blockReason = response.promptFeedback?.blockReason;
      if (blockReason)
        throw new AppError("CONTENT_BLOCKED", `The prompt was blocked by the model's safety filters (${blockReason})`, charged);

      const candidate = response.candidates?.[0];
      if (!candidate) throw new AppError("UPSTREAM_BAD_RESPONSE", "The model answered with no candidate and no reason", charged);
      const finishReason = candidate.finishReason ?? "";
      if (BLOCKING_FINISH_REASONS.has(finishReason)) {
        throw new AppError("CONTENT_BLOCKED", `The model withheld the image (${finishReason})`, charged);
      }

      const parts = candidate.content?.parts ?? [];
      const text = parts
        .map((part) => part.text ?? "")
        .join(" ")
        .trim()
        .slice(0, MAX_MODEL_TEXT);
      const image = parts.find((part) => part.inlineData?.data)?.inlineData;
      if (!image?.data) {
        const said = text ? `; it said: "${text}"` : "";
        throw new AppError("NO_IMAGE", `The model returned no image (${finishReason || "no reason given"})${said}`, charged);
      }
      return {
        bytes: decodeImageData(image.data, tokens),
        mimeType: image.mimeType ?? "application/octet-stream",
        text: text || undefined,
        usage: usageOf(response),
        tokens,
        attempts,
      };
    },
  };
}
