/** The transformation preset the gallery asks for; see /docs/images. */
export const THUMBNAIL_PRESET = "thumbnail";

/** The image's URL with the thumbnail preset; the key never goes in it, image URLs are public. */
export function thumbnailUrl(url: string): string {
  const thumbnail = new URL(url);
  thumbnail.searchParams.set("preset", THUMBNAIL_PRESET);
  return thumbnail.toString();
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
