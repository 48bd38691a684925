import { callApi, loadInfo } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { byId, fillSelect, h, safeHref } from "../lib/dom";
import { formatBytes, formatDate, formatMs } from "../lib/format";
import { flowPageHref, imagePageHref } from "../lib/image-pages";
import { onKeysChanged } from "../lib/key-store";
import { type LoadOutcome, pagedList } from "../lib/paged-list";
import { statusRegion } from "../lib/status";
import { thumbnailImage } from "../lib/thumbnail";

const PAGE_SIZE = 30;
const form = byId<HTMLFormElement>("gallery-filters");
const grid = byId("gallery-grid");
const statusElement = byId("gallery-status");
const status = statusRegion(statusElement);
const previous = byId<HTMLButtonElement>("prev-page");
const next = byId<HTMLButtonElement>("next-page");
const retry = byId<HTMLButtonElement>("retry-page");
const pageLabel = byId("page-label");
const timing = byId("gallery-timing");

/** Date inputs give a day; the API wants an instant. "Before" a day means before its start. */
function dayStart(value: string): string | undefined {
  return value ? new Date(`${value}T00:00:00`).toISOString() : undefined;
}

interface Filters {
  source: "generated" | "uploads";
  query: Record<string, string | number | undefined>;
}

/** The filters as the form says now; further pages keep the ones that produced their cursor. */
function filters(): Filters {
  const source = byId<HTMLSelectElement>("source").value === "uploads" ? "uploads" : "generated";
  byId("category-field").hidden = source !== "uploads";
  byId<HTMLSelectElement>("category").disabled = source !== "uploads";
  const data = new FormData(form);
  const text = String(data.get("q") ?? "").trim();
  return {
    source,
    query: {
      limit: PAGE_SIZE,
      q: text.length >= 2 ? text : undefined,
      format: String(data.get("format") ?? ""),
      aspectRatio: String(data.get("aspectRatio") ?? ""),
      createdAfter: dayStart(String(data.get("createdAfter") ?? "")),
      createdBefore: dayStart(String(data.get("createdBefore") ?? "")),
      // Only the uploads listing has categories; the field is disabled (and so not sent) otherwise.
      category: String(data.get("category") ?? ""),
    },
  };
}

function card(image: Schema<"Image">): { element: HTMLElement; loaded: Promise<void> } {
  const description = image.prompt ?? image.filename ?? "Untitled image";
  const { image: picture, loaded } = thumbnailImage(image.url, description);
  picture.width = 320;
  picture.height = 320;
  const element = h(
    "li",
    { class: "gallery-card" },
    h("a", { href: imagePageHref(image.id), "aria-label": `Details: ${description}` }, picture),
    h(
      "div",
      { class: "card-body" },
      image.alias ? h("p", { class: "card-aliases" }, h("span", { class: "badge alias" }, image.alias)) : null,
      h("p", { class: "prompt" }, description),
      h(
        "dl",
        { class: "meta" },
        h("dt", {}, "Dimensions"),
        h("dd", {}, `${image.width}×${image.height}${image.aspectRatio ? ` (${image.aspectRatio})` : ""}`),
        h("dt", {}, "Type"),
        h("dd", {}, image.mimeType),
        h("dt", {}, "Size"),
        h("dd", {}, formatBytes(image.bytes)),
        h("dt", {}, "Created"),
        h("dd", {}, h("time", { datetime: image.createdAt }, formatDate(image.createdAt))),
      ),
      h(
        "p",
        { class: "card-links" },
        h("a", { href: safeHref(image.url), "aria-label": `Full image: ${description}` }, "Full image"),
        image.flowId ? h("a", { href: flowPageHref(image.flowId) }, "Flow") : null,
      ),
    ),
  );
  return { element, loaded };
}

/** Set by the paging buttons: after their load, focus moves to the new results instead of a disabled button. */
let moveFocus = false;
let started = 0;

const list = pagedList<Filters, Schema<"Image">>({
  async fetchPage(current, cursor) {
    started = performance.now();
    status.busy("Loading images…");
    timing.textContent = "";
    const result = await callApi<ApiBody<"listGeneratedImages" | "listUploadedImages", 200>>(`/api/images/${current.source}`, {
      query: { ...current.query, cursor },
      key: "project",
    });
    return { items: result.body.data, nextCursor: result.body.pagination.nextCursor, ms: result.ms };
  },
  show(page) {
    const cards = page.items.map(card);
    grid.replaceChildren(...cards.map((item) => item.element));
    pageLabel.textContent = `Page ${page.index + 1}`;
    grid.setAttribute("aria-label", `Gallery, page ${page.index + 1}`);
    const count = page.items.length;
    status.done(count ? `${count} image${count === 1 ? "" : "s"} on this page.` : "No images match.");
    if (moveFocus) grid.focus();
    const loadStarted = started;
    void Promise.all(cards.map((item) => item.loaded)).then(() => {
      if (!page.current()) return;
      const total = performance.now() - loadStarted;
      timing.textContent = `Page loaded in ${formatMs(total)}: listing ${formatMs(page.ms)}, thumbnails ${formatMs(total - page.ms)}.`;
    });
  },
  fail(error, index) {
    grid.replaceChildren();
    timing.textContent = "";
    pageLabel.textContent = `Page ${index + 1} (not loaded)`;
    status.fail(error);
    if (moveFocus) statusElement.focus();
  },
  loading(busy) {
    grid.setAttribute("aria-busy", String(busy));
    if (busy) {
      // Marked, not disabled, while loading: a disabled button would drop keyboard focus to <body>.
      for (const button of [previous, next, retry]) button.setAttribute("aria-disabled", "true");
      return;
    }
    for (const button of [previous, next, retry]) button.removeAttribute("aria-disabled");
    // After a failed page, Previous goes to the page before it and Retry loads it again.
    const at = list.failed ?? list.shown;
    previous.disabled = at <= 0;
    next.disabled = list.failed !== null || !list.hasMore;
    retry.hidden = list.failed === null;
    moveFocus = false;
  },
});

async function page(go: () => Promise<LoadOutcome>) {
  if (list.loading) return;
  moveFocus = true;
  // A load that never started must not move focus on some later, unrelated one.
  if ((await go()).state === "ignored") moveFocus = false;
}

function startOver() {
  moveFocus = false;
  void list.start(filters());
}

next.addEventListener("click", () => void page(() => list.next()));
previous.addEventListener("click", () => void page(() => list.go((list.failed ?? list.shown) - 1)));
retry.addEventListener("click", () => void page(() => list.go(list.failed ?? list.shown)));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  startOver();
});
form.addEventListener("reset", () => {
  // After the browser has cleared the fields.
  setTimeout(startOver);
});
byId("source").addEventListener("change", startOver);
// A key added (or removed) in the "API keys" menu applies at once, without a reload.
onKeysChanged(startOver);
// Back from an image's page, the browser may restore this page as it was: load it again, since an alias may have changed there.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) startOver();
});

loadInfo()
  .then((info) =>
    fillSelect(byId<HTMLSelectElement>("aspect"), [
      { value: "", label: "Any" },
      ...info.aspectRatios.map((item) => ({ value: item.ratio, label: `${item.ratio} ${item.name}` })),
    ]),
  )
  .catch((error) => status.fail(error));
startOver();
