import { encodePng } from "../../../dev/gemini-fake/png.ts";

/** Text in the journey's prompt that makes the Gemini fake answer with `scriptedEnhancement`. */
export const ENHANCED_MARKER = "lighthouse";

export const JOURNEY_PROMPT = "a lighthouse on a cliff at dusk";

/** What the text model answers for the journey's prompt, in the enhancer's JSON schema. */
export const scriptedEnhancement = {
  enhancedPrompt:
    "A weathered white lighthouse on a rugged sea cliff at dusk, warm beam cutting through violet haze, waves below, cinematic wide shot",
  detectedLanguage: "en",
  translated: false,
  improvements: ["subject detail", "lighting", "composition", "mood"],
};

/** A small valid PNG to upload, named so the gallery search can find it. */
export function uploadFixture(): { name: string; mimeType: string; buffer: Buffer } {
  return { name: "journey-upload.png", mimeType: "image/png", buffer: encodePng(320, 200, 7) };
}
