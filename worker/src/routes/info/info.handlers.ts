import { version } from "../../../../package.json";
import { DEFAULT_IMAGE_MODEL } from "../../config";
import { ASPECT_RATIOS, OUTPUT_FORMATS, TEMPLATES, UPLOAD_MIME_TYPES } from "../../domain/catalog";
import {
  DEFAULT_HOURLY_LIMIT,
  DEFAULT_PAGE_SIZE,
  MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS,
  MAX_IMAGE_PIXELS,
  MAX_JPEG_OUTPUT_PIXELS,
  MAX_OUTPUT_DIMENSION,
  MAX_OUTPUT_PIXELS,
  MAX_PAGE_SIZE,
  MAX_PROMPT_LENGTH,
  MAX_REFERENCES,
  MAX_UPLOAD_BYTES,
  MAX_VARIANTS_PER_IMAGE,
} from "../../domain/limits";
import { costMicros, IMAGE_OUTPUT_TOKENS, PRICE_VERSION, PRICES, priceOf } from "../../domain/pricing";
import { BUILT_IN_PRESETS } from "../../images/transform/presets";
import type { AppRouteHandler } from "../create-app";
import type { infoRoute } from "./info.routes";

// Built once: everything in it is a constant of this deployment.
const info = {
  name: "Banatie",
  version,
  limits: {
    maxUploadBytes: MAX_UPLOAD_BYTES,
    maxPromptLength: MAX_PROMPT_LENGTH,
    maxPageSize: MAX_PAGE_SIZE,
    defaultPageSize: DEFAULT_PAGE_SIZE,
    defaultHourlyLimit: DEFAULT_HOURLY_LIMIT,
    maxImagePixels: MAX_IMAGE_PIXELS,
    maxReferences: MAX_REFERENCES,
  },
  transformations: {
    maxOutputDimension: MAX_OUTPUT_DIMENSION,
    maxOutputPixels: MAX_OUTPUT_PIXELS,
    maxJpegOutputPixels: MAX_JPEG_OUTPUT_PIXELS,
    maxJpegOutputPixelsFullChroma: MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS,
    maxVariantsPerImage: MAX_VARIANTS_PER_IMAGE,
    presets: BUILT_IN_PRESETS,
  },
  formats: { output: [...OUTPUT_FORMATS], upload: [...UPLOAD_MIME_TYPES] },
  aspectRatios: Object.entries(ASPECT_RATIOS).map(([ratio, size]) => ({ ratio, ...size })),
  templates: Object.entries(TEMPLATES).map(([id, description]) => ({ id, description })),
};

const defaultImagePrice = priceOf("gemini", DEFAULT_IMAGE_MODEL);
if (!defaultImagePrice) throw new Error(`The price table has no price for ${DEFAULT_IMAGE_MODEL}`);

/** The price table, so clients (the site's pricing page and workbench) never hard-code a price. */
const prices = {
  priceVersion: PRICE_VERSION,
  models: Object.entries(PRICES).flatMap(([provider, models]) =>
    Object.entries(models).map(([model, price]) => ({ provider, model, usdMicrosPerMillionTokens: price })),
  ),
  image: {
    model: DEFAULT_IMAGE_MODEL,
    outputTokens: IMAGE_OUTPUT_TOKENS,
    usdMicros: costMicros(defaultImagePrice, { input: {}, output: { image: IMAGE_OUTPUT_TOKENS } }),
  },
};

export const getInfo: AppRouteHandler<typeof infoRoute> = (c) => {
  c.header("Cache-Control", "public, max-age=300");
  // Which models answer depends on this deployment's configuration (GEMINI_API_KEY), not on the request.
  const { imageModel, enhancer } = c.var.services;
  const pricing = { ...prices, provider: imageModel.provider, inUse: { image: imageModel.model, enhancement: enhancer.model } };
  return c.json({ success: true as const, data: { ...info, pricing } }, 200);
};
