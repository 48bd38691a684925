import { version } from "../../../../package.json";
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
  MAX_UPLOAD_BYTES,
  MAX_VARIANTS_PER_IMAGE,
} from "../../domain/limits";
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

export const getInfo: AppRouteHandler<typeof infoRoute> = (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ success: true as const, data: info }, 200);
};
