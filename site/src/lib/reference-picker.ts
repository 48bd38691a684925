/**
 * The workbench's reference images: which project images the next generation sends as
 * `referenceImages`, in the order they were chosen. Pure state, without DOM, so its rules
 * (at most the API's limit, each image once) are tested in Node.
 */
import type { Schema } from "./api-contract";
import { formatDate } from "./format";

/** One chosen reference, as the picker shows it. */
export interface PickedReference {
  /** The image id sent in `referenceImages`. */
  id: string;
  /** The image's public URL, for the preview. */
  url: string;
  /** Names the image for people and screen readers: its alias, else where it came from, its size and time. */
  label: string;
}

export type PickOutcome =
  | { added: true; references: PickedReference[] }
  | { added: false; references: PickedReference[]; reason: "duplicate" | "full"; message: string };

/** Adds `candidate` at the end, unless it is already chosen or `max` are chosen; the list given is never changed. */
export function addReference(current: readonly PickedReference[], candidate: PickedReference, max: number): PickOutcome {
  const references = [...current];
  if (references.some((reference) => reference.id === candidate.id))
    return { added: false, references, reason: "duplicate", message: `${candidate.label} is already a reference.` };
  if (references.length >= max) return { added: false, references, reason: "full", message: noRoomText(max, candidate.label) };
  return { added: true, references: [...references, candidate] };
}

/** Why a reference beyond `max` is refused; `label` names what was offered (an image, a file). */
export function noRoomText(max: number, label: string): string {
  return `At most ${max} references per generation: remove one before adding ${label}.`;
}

/** The references without the image `id`. */
export function removeReference(current: readonly PickedReference[], id: string): PickedReference[] {
  return current.filter((reference) => reference.id !== id);
}

/** "1 reference", "2 references": how a result says what it was made from. */
export function referenceCount(count: number): string {
  return count === 0 ? "No references" : `${count} reference${count === 1 ? "" : "s"}`;
}

/** A v1 image as a reference: labelled by its alias when it has one, else by source, size and time. */
export function pickedImage(image: Schema<"V1Image">): PickedReference {
  const origin = image.source === "generated" ? "Generated" : "Uploaded";
  const label = image.alias ?? `${origin} ${image.width}×${image.height}, ${formatDate(image.createdAt)}`;
  return { id: image.id, url: image.url, label };
}
