import { callApi } from "./api";
import type { ApiBody, Schema } from "./api-contract";
import { h } from "./dom";
import { imagePageHref } from "./image-pages";
import { ApiError } from "./problem";
import { thumbnailImage } from "./thumbnail";

type V1Image = Schema<"V1Image">;

/** An image looked up by id: found, gone (deleted, so the API answers 404), or not read (any other failure). */
export type LookedUp = { state: "found"; image: V1Image } | { state: "deleted" } | { state: "failed"; error: unknown };

/**
 * Reads images by id with the project key, each once however often it is asked for, in
 * parallel. Images already known (from a list) are seeded with `remember`.
 */
export function imageLookup() {
  const known = new Map<string, Promise<LookedUp>>();
  return {
    remember(image: V1Image) {
      known.set(image.id, Promise.resolve({ state: "found", image }));
    },
    get(id: string): Promise<LookedUp> {
      let found = known.get(id);
      if (!found) {
        found = callApi<ApiBody<"getV1Image", 200>>(`/api/v1/images/${encodeURIComponent(id)}`, { key: "project" }).then(
          (result): LookedUp => ({ state: "found", image: result.body.data }),
          (error: unknown): LookedUp =>
            error instanceof ApiError && error.status === 404 ? { state: "deleted" } : { state: "failed", error },
        );
        known.set(id, found);
      }
      return found;
    },
  };
}

/**
 * The images a generation used, in order, as thumbnails linking to their own pages. A deleted
 * one says so instead of showing a broken picture.
 */
export async function referenceList(
  references: readonly { imageId: string; alias: string | null }[],
  lookup: ReturnType<typeof imageLookup>,
): Promise<HTMLElement> {
  if (!references.length) return h("p", { class: "muted small-text" }, "No reference images: made from the prompt alone.");
  const found = await Promise.all(references.map((reference) => lookup.get(reference.imageId)));
  return h(
    "ul",
    { class: "reference-list", "aria-label": `${references.length} reference image${references.length === 1 ? "" : "s"}` },
    ...references.map((reference, index) => {
      const name = `Reference ${index + 1}${reference.alias ? ` (${reference.alias})` : ""}`;
      const outcome = found[index] as LookedUp;
      if (outcome.state !== "found") {
        const text = outcome.state === "deleted" ? "deleted" : "could not be loaded";
        return h(
          "li",
          { class: "reference", "data-state": outcome.state },
          h("span", { class: "placeholder reference-missing" }, text),
          h("span", { class: "small-text" }, `${name}: ${text}`),
        );
      }
      const { image } = thumbnailImage(outcome.image.url, name);
      return h(
        "li",
        { class: "reference", "data-state": "found" },
        h("a", { href: imagePageHref(outcome.image.id), "aria-label": `${name}: open its page` }, image),
        h("span", { class: "small-text" }, name),
      );
    }),
  );
}
