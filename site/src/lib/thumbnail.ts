/** The built-in transformation presets every project has, smallest first; see /docs/images. */
export const BUILT_IN_PRESETS = ["thumbnail", "small", "medium", "large"] as const;
export type BuiltInPreset = (typeof BUILT_IN_PRESETS)[number];

/** The transformation preset the gallery asks for. */
export const THUMBNAIL_PRESET: BuiltInPreset = "thumbnail";

/** The image's URL with a preset; the key never goes in it, image URLs are public. */
export function presetUrl(url: string, preset: BuiltInPreset): string {
  const transformed = new URL(url);
  transformed.searchParams.set("preset", preset);
  return transformed.toString();
}

/** The image's URL with the thumbnail preset. */
export function thumbnailUrl(url: string): string {
  return presetUrl(url, THUMBNAIL_PRESET);
}

/**
 * An <img> showing the thumbnail, falling back once to the full image when the server cannot
 * make thumbnails (older deployments reject or ignore the option). Resolves when the picture is
 * shown or definitely failed.
 */
export function thumbnailImage(url: string, alt: string): { image: HTMLImageElement; loaded: Promise<void> } {
  const image = document.createElement("img");
  image.alt = alt;
  image.decoding = "async";
  const loaded = new Promise<void>((resolve) => {
    image.addEventListener("load", () => resolve());
    image.addEventListener("error", () => {
      if (image.dataset.fallback) return resolve();
      image.dataset.fallback = "full";
      image.src = url;
    });
  });
  image.src = thumbnailUrl(url);
  return { image, loaded };
}
