/**
 * What the platform offers, in one place: the info endpoint, request schemas and the site all
 * read these, so a new ratio or template is added here once.
 */

/** Aspect ratios Gemini 2.5 Flash Image accepts, with the pixel size it returns for each. */
export const ASPECT_RATIOS = {
  "1:1": { name: "square", width: 1024, height: 1024 },
  "3:4": { name: "portrait", width: 864, height: 1184 },
  "4:3": { name: "landscape", width: 1184, height: 864 },
  "16:9": { name: "widescreen", width: 1344, height: 768 },
  "21:9": { name: "ultrawide", width: 1536, height: 672 },
  "9:16": { name: "vertical", width: 768, height: 1344 },
  "2:3": { name: "portrait-2:3", width: 832, height: 1248 },
  "3:2": { name: "landscape-3:2", width: 1248, height: 832 },
  "4:5": { name: "portrait-4:5", width: 896, height: 1152 },
  "5:4": { name: "landscape-5:4", width: 1152, height: 896 },
} as const;

export type AspectRatio = keyof typeof ASPECT_RATIOS;
export const ASPECT_RATIO_VALUES = Object.keys(ASPECT_RATIOS) as [AspectRatio, ...AspectRatio[]];
export const DEFAULT_ASPECT_RATIO: AspectRatio = "1:1";

export const TEMPLATES = {
  general: "Balanced enhancement for any subject",
  photorealistic: "Professional photography with lighting and camera details",
  illustration: "Artistic style with medium and technique specifications",
  minimalist: "Clean, simple designs with emphasis on negative space",
  sticker: "Fun, vibrant designs suitable for messaging apps",
  product: "Commercial product photography standards",
  comic: "Cartoon and comic book styles",
} as const;

export type Template = keyof typeof TEMPLATES;
export const TEMPLATE_VALUES = Object.keys(TEMPLATES) as [Template, ...Template[]];

export const OUTPUT_FORMATS = ["png", "jpeg", "webp"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The extension of stored files in each format, and back. */
/** Quality used for lossy formats when the request names none. */
export const DEFAULT_QUALITY = { jpeg: 82, webp: 80 } as const;

export const FILE_EXTENSIONS = { png: "png", jpeg: "jpg", webp: "webp" } as const satisfies Record<OutputFormat, string>;
const FORMATS_BY_EXTENSION: Record<string, OutputFormat> = { png: "png", jpg: "jpeg", webp: "webp" };

/** The format of a stored file, from the extension the server gave it. */
export function formatOfFile(file: string): OutputFormat {
  return FORMATS_BY_EXTENSION[file.split(".").pop() ?? ""] ?? "png";
}

export const UPLOAD_MIME_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;

export const IMAGE_CATEGORIES = ["generated", "uploads", "references"] as const;
export type ImageCategory = (typeof IMAGE_CATEGORIES)[number];
