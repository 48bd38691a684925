import { AppError } from "../../lib/errors";
import { invalidOption, parseTransformOptions, type TransformOptions } from "./options";

/** Built-in presets, available to every project without a signature. */
export const BUILT_IN_PRESETS: Record<string, string> = {
  thumbnail: "w=256&h=256&fit=cover",
  small: "w=480&h=480&fit=inside",
  medium: "w=960&h=960&fit=inside",
  large: "w=1920&h=1920&fit=inside",
};

/**
 * A preset's definition parsed as a query. Presets set size, crop and quality; the format and the
 * watermark stay the URL's (a preset that named them would be ignored or would decide alone
 * whether the watermark shows), and presets never refer to other presets.
 */
export function parsePresetDefinition(definition: string): TransformOptions {
  const options = parseTransformOptions(new URLSearchParams(definition));
  if (options.preset !== undefined || options.format !== undefined || options.watermark !== undefined) {
    throw new AppError("VALIDATION_ERROR", "A preset sets w, h, fit, gravity, crop and q only");
  }
  return options;
}

/**
 * Replaces `preset` by its definition (the project's presets shadow nothing: built-in names are
 * reserved). The request's own format, quality and watermark win over the preset's.
 */
export function expandPreset(options: TransformOptions, projectPresets: Record<string, string>): TransformOptions {
  if (!options.preset) return options;
  const definition = BUILT_IN_PRESETS[options.preset] ?? projectPresets[options.preset];
  if (definition === undefined) {
    invalidOption("preset", `no preset named ${options.preset}`);
  }
  const { preset: _name, ...own } = options;
  const base = parsePresetDefinition(definition);
  return {
    ...base,
    ...Object.fromEntries(Object.entries(own).filter(([, value]) => value !== undefined)),
  };
}
