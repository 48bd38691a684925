/**
 * The workbench's reference picker: previews of the chosen references (each with a Remove
 * button), and a closed "Add a reference" section with two tabs, the project's images
 * (GET /api/v1/images, a page at a time) and a file upload (POST /api/v1/images/upload, after
 * the checks the upload page makes). Nothing is requested until the section is opened.
 */
import { callApi, loadInfo } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { byId, h } from "../lib/dom";
import { checkFile, checkPixels, readImageFacts } from "../lib/image-file";
import { pagedList } from "../lib/paged-list";
import { ApiError } from "../lib/problem";
import { addReference, noRoomText, type PickedReference, pickedImage, removeReference } from "../lib/reference-picker";
import { statusRegion } from "../lib/status";
import { thumbnailImage } from "../lib/thumbnail";
import { uploadFile } from "../lib/upload";

/** Images per page of the gallery tab: four rows of three on a wide screen. */
const PAGE_SIZE = 12;

export interface ReferencePicker {
  /** The chosen references, in the order they are sent. */
  references(): PickedReference[];
  /** Replaces the choice (with one image, for "Edit this image"). */
  replace(references: PickedReference[]): void;
  /** Called after every change of the choice. */
  onChange(listener: () => void): void;
  /** Forgets the listed images, to list them again with the key now stored. */
  keyChanged(): void;
}

export function referencePicker(): ReferencePicker {
  const previews = byId<HTMLUListElement>("reference-previews");
  const status = statusRegion(byId("references-status"));
  const adder = byId<HTMLDetailsElement>("reference-adder");
  const choices = byId<HTMLUListElement>("reference-choices");
  const more = byId<HTMLButtonElement>("reference-more");
  const galleryStatus = statusRegion(byId("reference-gallery-status"));
  const fileInput = byId<HTMLInputElement>("reference-file");
  const progress = byId<HTMLProgressElement>("reference-progress");
  const uploadStatus = statusRegion(byId("reference-upload-status"));
  const listeners: (() => void)[] = [];
  let chosen: PickedReference[] = [];
  let max = 3;
  /** True until the gallery tab lists the project's images as they are now. */
  let galleryStale = true;
  let uploading = false;

  loadInfo()
    .then((info) => {
      max = info.limits.maxReferences;
      byId("references-max").textContent = String(max);
    })
    .catch(() => {
      // The workbench's own status reports /api/info failing; 3 stays the limit shown.
    });

  function changed() {
    renderPreviews();
    for (const choice of choices.querySelectorAll<HTMLButtonElement>("button[data-image-id]"))
      choice.setAttribute("aria-pressed", String(chosen.some((reference) => reference.id === choice.dataset.imageId)));
    for (const listener of listeners) listener();
  }

  function renderPreviews() {
    previews.replaceChildren(
      ...chosen.map((reference, index) => {
        const name = `reference ${index + 1}, ${reference.label}`;
        const button = h("button", { type: "button", class: "secondary small", "aria-label": `Remove ${name}` }, "Remove");
        button.addEventListener("click", () => {
          remove(reference);
          // Focus stays in the list rather than dropping to the page with the button gone.
          (previews.querySelector<HTMLButtonElement>("button") ?? adder.querySelector("summary"))?.focus();
        });
        const { image } = thumbnailImage(reference.url, "");
        return h(
          "li",
          { class: "reference-preview", "data-image-id": reference.id },
          image,
          h("span", { class: "reference-label" }, `${index + 1}. ${reference.label}`),
          button,
        );
      }),
    );
    byId("references-empty").hidden = chosen.length > 0;
  }

  function refuse(reason: "duplicate" | "full", message: string) {
    status.fail(
      new ApiError(0, { title: reason === "full" ? "No room for another reference" : "Already chosen", detail: message }),
    );
  }

  function choose(reference: PickedReference) {
    const outcome = addReference(chosen, reference, max);
    if (!outcome.added) return refuse(outcome.reason, outcome.message);
    chosen = outcome.references;
    status.done(`Added ${reference.label} as reference ${chosen.length} of at most ${max}.`);
    changed();
  }

  function remove(reference: PickedReference) {
    const position = chosen.findIndex((item) => item.id === reference.id) + 1;
    chosen = removeReference(chosen, reference.id);
    status.done(`Removed reference ${position}, ${reference.label}.`);
    changed();
  }

  function galleryChoice(image: Schema<"V1Image">) {
    const reference = pickedImage(image);
    const { image: thumbnail } = thumbnailImage(image.url, "");
    const button = h(
      "button",
      {
        type: "button",
        class: "reference-choice",
        "data-image-id": image.id,
        "aria-pressed": String(chosen.some((item) => item.id === image.id)),
      },
      thumbnail,
      h("span", {}, reference.label),
    );
    // A toggle: pressing a chosen image again takes it out.
    button.addEventListener("click", () => (chosen.some((item) => item.id === image.id) ? remove(reference) : choose(reference)));
    return h("li", {}, button);
  }

  let galleryTotal = 0;
  const gallery = pagedList<Record<string, never>, Schema<"V1Image">>({
    async fetchPage(_filters, cursor) {
      // The v1 list pages by offset: the next offset serves as the cursor.
      const offset = Number(cursor ?? 0);
      const result = await callApi<ApiBody<"listV1Images", 200>>("/api/v1/images", {
        query: { limit: PAGE_SIZE, offset },
        key: "project",
      });
      const { data, pagination } = result.body;
      galleryTotal = pagination.total;
      return { items: data, nextCursor: pagination.hasMore ? String(offset + data.length) : null, ms: result.ms };
    },
    show(page) {
      if (page.index === 0) choices.replaceChildren();
      choices.append(...page.items.map(galleryChoice));
      galleryStatus.done(
        galleryTotal === 0
          ? "The project has no images yet: generate or upload one."
          : `Showing ${choices.children.length} of ${galleryTotal} images. Choose one to add it.`,
      );
    },
    fail(error, index) {
      if (index === 0) galleryStale = true;
      galleryStatus.fail(error);
    },
    loading(busy) {
      if (busy) galleryStatus.busy("Loading the project's images…");
    },
    more: { button: more, focusAfterLast: byId("reference-tab-gallery") },
  });

  /** Lists the project's images afresh when the gallery tab is open; else the next opening does. */
  function listImages() {
    galleryStale = !adder.open;
    if (adder.open) void gallery.start({});
  }

  /** Checks a file as the upload page does (type, size, pixels) before spending a request on it. */
  async function fileProblems(file: File): Promise<string[]> {
    const info = await loadInfo();
    const problems = checkFile(file, { maxUploadBytes: info.limits.maxUploadBytes, types: info.formats.upload });
    if (problems.length) return problems;
    const url = URL.createObjectURL(file);
    try {
      return checkPixels(await readImageFacts(url), info.limits.maxImagePixels);
    } catch (error) {
      return [error instanceof Error ? error.message : String(error)];
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  async function upload(file: File) {
    if (uploading) return;
    if (chosen.length >= max) {
      // Refused before the upload, so a file that could not be used spends nothing.
      refuse("full", noRoomText(max, file.name));
      fileInput.value = "";
      return;
    }
    uploading = true;
    fileInput.disabled = true;
    progress.value = 0;
    uploadStatus.busy(`Checking ${file.name}…`);
    try {
      const problems = await fileProblems(file);
      if (problems.length) throw new ApiError(0, { title: "This file cannot be uploaded", detail: problems.join(" ") });
      uploadStatus.busy(`Uploading ${file.name}…`);
      const form = new FormData();
      form.append("file", file, file.name);
      const result = await uploadFile<ApiBody<"uploadV1Image", 201>>(
        form,
        (fraction) => {
          progress.value = Math.round(fraction * 100);
        },
        "/api/v1/images/upload",
      );
      const image = result.body.data;
      uploadStatus.done(`Uploaded ${file.name}.`);
      choose({ ...pickedImage(image), label: `${file.name}, ${image.width}×${image.height}` });
      // The gallery tab lists the new upload too.
      listImages();
    } catch (error) {
      uploadStatus.fail(error);
    } finally {
      uploading = false;
      fileInput.disabled = false;
      fileInput.value = "";
    }
  }

  const tabs = [
    { tab: byId<HTMLButtonElement>("reference-tab-gallery"), panel: byId("reference-panel-gallery") },
    { tab: byId<HTMLButtonElement>("reference-tab-upload"), panel: byId("reference-panel-upload") },
  ];
  function selectTab(index: number, focus = false) {
    tabs.forEach(({ tab, panel }, position) => {
      const on = position === index;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
      if (on && focus) tab.focus();
    });
  }
  tabs.forEach(({ tab }, index) => {
    tab.addEventListener("click", () => selectTab(index));
  });
  byId("reference-tabs").addEventListener("keydown", (event) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const current = tabs.findIndex(({ tab }) => tab.getAttribute("aria-selected") === "true");
    selectTab((current + step + tabs.length) % tabs.length, true);
  });

  adder.addEventListener("toggle", () => {
    if (adder.open && galleryStale) listImages();
  });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) upload(file);
  });
  renderPreviews();

  return {
    references: () => [...chosen],
    replace(references) {
      chosen = references.slice(0, max);
      status.clear();
      changed();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    keyChanged() {
      choices.replaceChildren();
      galleryStatus.clear();
      listImages();
    },
  };
}
