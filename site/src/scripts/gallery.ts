import { callApi, type Envelope, loadInfo } from "../lib/api";
import { byId, fillSelect, h } from "../lib/dom";
import { formatBytes, formatDate, formatMs } from "../lib/format";
import { statusRegion } from "../lib/status";
import { thumbnailImage } from "../lib/thumbnail";

interface Image {
  id: string;
  url: string;
  category: string;
  mimeType: string;
  bytes: number;
  width: number;
  height: number;
  aspectRatio: string | null;
  filename: string | null;
  createdAt: string;
  prompt: string | null;
  template: string | null;
}

const PAGE_SIZE = 30;
const form = byId<HTMLFormElement>("gallery-filters");
const grid = byId("gallery-grid");
const status = statusRegion(byId("gallery-status"));
const previous = byId<HTMLButtonElement>("prev-page");
const next = byId<HTMLButtonElement>("next-page");
/** Cursors of the pages seen so far: index 0 is the first page (no cursor). */
let cursors: (string | null)[] = [null];
let nextCursor: string | null = null;
/** Numbers each load; an answer to an older one (filters changed meanwhile) is dropped. */
let latestLoad = 0;

/** Date inputs give a day; the API wants an instant. "Before" a day means before its start. */
function dayStart(value: string): string | undefined {
  return value ? new Date(`${value}T00:00:00`).toISOString() : undefined;
}

function query(cursor: string | null) {
  const data = new FormData(form);
  const text = String(data.get("q") ?? "").trim();
  return {
    limit: PAGE_SIZE,
    cursor,
    q: text.length >= 2 ? text : undefined,
    format: String(data.get("format") ?? ""),
    aspectRatio: String(data.get("aspectRatio") ?? ""),
    createdAfter: dayStart(String(data.get("createdAfter") ?? "")),
    createdBefore: dayStart(String(data.get("createdBefore") ?? "")),
    // Only the uploads listing has categories; the field is disabled (and so not sent) otherwise.
    category: String(data.get("category") ?? ""),
  };
}

function card(image: Image): { element: HTMLElement; loaded: Promise<void> } {
  const description = image.prompt ?? image.filename ?? "Untitled image";
  const { image: picture, loaded } = thumbnailImage(image.url, description);
  picture.width = 320;
  picture.height = 320;
  const element = h(
    "li",
    { class: "gallery-card" },
    h("a", { href: image.url, "aria-label": `Open full image: ${description}` }, picture),
    h(
      "div",
      { class: "card-body" },
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
    ),
  );
  return { element, loaded };
}

async function load(page: number) {
  const source = byId<HTMLSelectElement>("source").value === "uploads" ? "uploads" : "generated";
  byId("category-field").hidden = source !== "uploads";
  byId<HTMLSelectElement>("category").disabled = source !== "uploads";
  const ticket = ++latestLoad;
  status.busy("Loading images…");
  byId("gallery-timing").textContent = "";
  grid.setAttribute("aria-busy", "true");
  previous.disabled = true;
  next.disabled = true;
  const started = performance.now();
  try {
    const result = await callApi<Envelope<Image[]>>(`/api/images/${source}`, {
      query: query(cursors[page] ?? null),
      key: "project",
    });
    if (ticket !== latestLoad) return;
    const cards = result.body.data.map(card);
    grid.replaceChildren(...cards.map((item) => item.element));
    nextCursor = result.body.pagination?.nextCursor ?? null;
    cursors = cursors.slice(0, page + 1);
    byId("page-label").textContent = `Page ${page + 1}`;
    previous.disabled = page === 0;
    next.disabled = !nextCursor;
    next.dataset.page = String(page + 1);
    previous.dataset.page = String(page - 1);
    const count = result.body.data.length;
    status.done(count ? `${count} image${count === 1 ? "" : "s"} on this page.` : "No images match.");
    await Promise.all(cards.map((item) => item.loaded));
    if (ticket !== latestLoad) return;
    byId("gallery-timing").textContent =
      `Page loaded in ${formatMs(performance.now() - started)}: listing ${formatMs(result.ms)}, thumbnails ${formatMs(performance.now() - started - result.ms)}.`;
  } catch (error) {
    if (ticket !== latestLoad) return;
    grid.replaceChildren();
    byId("gallery-timing").textContent = "";
    status.fail(error);
    previous.disabled = page === 0;
  } finally {
    if (ticket === latestLoad) grid.setAttribute("aria-busy", "false");
  }
}

next.addEventListener("click", () => {
  const page = Number(next.dataset.page);
  cursors[page] = nextCursor;
  load(page);
});
previous.addEventListener("click", () => load(Math.max(0, Number(previous.dataset.page))));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  cursors = [null];
  load(0);
});
form.addEventListener("reset", () => {
  // After the browser has cleared the fields.
  setTimeout(() => {
    cursors = [null];
    load(0);
  });
});
byId("source").addEventListener("change", () => {
  cursors = [null];
  load(0);
});

loadInfo()
  .then((info) =>
    fillSelect(byId<HTMLSelectElement>("aspect"), [
      { value: "", label: "Any" },
      ...info.aspectRatios.map((item) => ({ value: item.ratio, label: `${item.ratio} ${item.name}` })),
    ]),
  )
  .catch((error) => status.fail(error));
load(0);
