import { imageUrl, imageUrlBase } from "../../delivery/image-urls";
import { DEFAULT_ASPECT_RATIO } from "../../domain/catalog";
import { MAX_GENERATE_FILES } from "../../domain/limits";
import { nearestAspectRatio, readUploadedImage, uploadBaseName } from "../../images/validate-upload";
import { AppError } from "../../lib/errors";
import { authorizeProjectAlongside } from "../../middleware/access";
import { lookUpPromptCache } from "../../services/enhancement";
import { type GenerationReference, generateImage } from "../../services/generation";
import { type StoredUpload, storeUpload } from "../../services/uploads";
import type { AppRouteHandler } from "../create-app";
import { reserveForBudget } from "../shared/generation-budget";
import { toGenerationBody } from "../shared/generation-schemas";
import type { generateRoute } from "./generate.routes";

function listOf<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export const generate: AppRouteHandler<typeof generateRoute> = async (c) => {
  const form = c.req.valid("form");
  const template = form.enhancementOptions?.template ?? form["enhancementOptions[template]"] ?? "general";
  const files = [...listOf(form["files[]"]), ...listOf(form.files)];
  if (files.length > MAX_GENERATE_FILES) {
    throw new AppError("TOO_MANY_REFERENCES", `files: at most ${MAX_GENERATE_FILES} reference images, got ${files.length}`, {
      errors: [{ field: "files", message: `at most ${MAX_GENERATE_FILES} files` }],
    });
  }
  // Every file is checked as an upload is before the quota is spent or anything is stored.
  const checked: Awaited<ReturnType<typeof readUploadedImage>>[] = [];
  for (const [index, file] of files.entries()) checked.push(await readUploadedImage(file, `files[${index}]`));

  const { services } = c.var;
  // Without files, the prompt cache is read alongside the key check; with them, the cache key names them.
  const { caller, read: cachedEnhancement } = await authorizeProjectAlongside(c, async (keyHash) =>
    form.autoEnhance && files.length === 0 ? lookUpPromptCache(services, keyHash, form.prompt, template) : null,
  );
  const first = checked[0]?.header;
  const aspectRatio = form.aspectRatio ?? (first ? nearestAspectRatio(first.width, first.height).ratio : DEFAULT_ASPECT_RATIO);
  const budget = await reserveForBudget(c, caller, {
    prompt: form.prompt,
    autoEnhance: form.autoEnhance,
    template,
    references: checked.map(({ header }) => ({ width: header.width, height: header.height, label: null })),
  });
  let stored: StoredUpload[];
  try {
    stored = await Promise.all(
      checked.map(({ bytes, header }, index) =>
        storeUpload(services, caller, {
          bytes,
          header,
          category: "references",
          filename: uploadBaseName(files[index] as File),
        }),
      ),
    );
  } catch (error) {
    budget?.settlement.release();
    throw error;
  }
  const references: GenerationReference[] = stored.map((upload, index) => ({
    spec: `files[${index}]`,
    alias: null,
    resolvedVia: "file",
    image: { id: upload.id, storageKey: upload.storageKey },
    // Just stored: the model gets these bytes without reading them back.
    bytes: (checked[index] as (typeof checked)[number]).bytes,
  }));
  // A failed generation keeps the references: they are the project's uploads, listed with them.
  const result = await generateImage(services, caller, {
    prompt: form.prompt,
    filename: form.filename,
    aspectRatio,
    outputFormat: form.outputFormat,
    autoEnhance: form.autoEnhance,
    template,
    cachedEnhancement: files.length === 0 ? cachedEnhancement : undefined,
    budget,
    references,
    notify: { imageUrlBase: imageUrlBase(c) },
  });
  return c.json(
    {
      success: true as const,
      data: {
        ...toGenerationBody(c, result),
        references: stored.map((upload, index) => {
          const { header } = checked[index] as (typeof checked)[number];
          return {
            id: upload.id,
            url: imageUrl(c, upload.storageKey),
            width: header.width,
            height: header.height,
            mimeType: header.mimeType,
          };
        }),
      },
    },
    201,
  );
};
