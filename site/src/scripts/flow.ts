import { callApi } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { byId, h } from "../lib/dom";
import { formatDate } from "../lib/format";
import { imageLookup, referenceList } from "../lib/image-lookup";
import { generationAnchor, idParameter, imagePageHref, oldestFirst } from "../lib/image-pages";
import { onKeysChanged } from "../lib/key-store";
import { ApiError } from "../lib/problem";
import { statusRegion } from "../lib/status";
import { thumbnailImage } from "../lib/thumbnail";

type Generation = Schema<"V1Generation">;

/** The API's largest page. */
const PAGE_SIZE = 100;
/** A flow longer than this shows its newest generations only, and says so. */
const MAX_GENERATIONS = 1000;

const flowId = idParameter(window.location.search);
const view = byId("flow-view");
const title = byId("flow-title");
const statusElement = byId("flow-status");
const status = statusRegion(statusElement);
let loads = 0;

/** The path of one of the flow's resources: the flow itself, or its lists. */
const flowPath = (id: string, list = "") => `/api/v1/flows/${encodeURIComponent(id)}${list}`;

/** Every generation of the flow (up to MAX_GENERATIONS), which the API lists newest first, by offset. */
async function flowGenerations(id: string): Promise<{ items: Generation[]; total: number }> {
  const items: Generation[] = [];
  for (;;) {
    const page = (
      await callApi<ApiBody<"listFlowGenerations", 200>>(flowPath(id, "/generations"), {
        query: { limit: PAGE_SIZE, offset: items.length },
        key: "project",
      })
    ).body;
    items.push(...page.data);
    if (!page.pagination.hasMore || page.data.length === 0 || items.length >= MAX_GENERATIONS)
      return { items, total: page.pagination.total };
  }
}

function outputPicture(generation: Generation, position: number): HTMLElement {
  const output = generation.outputImage;
  if (!output) {
    return h(
      "p",
      { class: "placeholder flow-output" },
      generation.status === "failed" ? `Failed: ${generation.errorMessage ?? "no image"}` : "No image yet",
    );
  }
  const { image } = thumbnailImage(output.url, generation.prompt);
  image.width = 256;
  image.height = 256;
  return h("a", { href: imagePageHref(output.id), "aria-label": `Generation ${position}'s image: open its page` }, image);
}

async function generationItem(
  generation: Generation,
  position: number,
  lookup: ReturnType<typeof imageLookup>,
): Promise<HTMLElement> {
  const references = await referenceList(generation.referencedImages, lookup);
  return h(
    "li",
    { class: "panel flow-generation", id: generationAnchor(generation.id), "data-generation-id": generation.id },
    h("div", { class: "flow-output-cell" }, outputPicture(generation, position)),
    h(
      "div",
      { class: "flow-generation-body" },
      h("h3", {}, `Generation ${position}`, " ", h("span", { class: "badge" }, generation.status)),
      h(
        "dl",
        { class: "meta" },
        h("dt", {}, "Prompt"),
        h("dd", { class: "flow-prompt" }, generation.originalPrompt ?? generation.prompt),
        ...(generation.originalPrompt ? [h("dt", {}, "Sent to the model"), h("dd", {}, generation.prompt)] : []),
        h("dt", {}, "Created"),
        h("dd", {}, h("time", { datetime: generation.createdAt }, formatDate(generation.createdAt))),
      ),
      h("p", { class: "small-text muted" }, "References"),
      references,
    ),
  );
}

async function load() {
  const current = ++loads;
  view.hidden = true;
  if (!flowId) {
    status.fail(new ApiError(0, { title: "No flow named", detail: "This page shows one flow: open it from an image's page." }));
    return;
  }
  status.busy("Loading the flow…");
  try {
    const requests = [
      callApi<ApiBody<"getFlow", 200>>(flowPath(flowId), { key: "project" }),
      flowGenerations(flowId),
      // The flow's own images cover most references (@last, @first): one request instead of one each.
      callApi<ApiBody<"listFlowImages", 200>>(flowPath(flowId, "/images"), { query: { limit: PAGE_SIZE }, key: "project" }),
    ] as const;
    // All three end before the page reports, so an unknown flow's 404 leaves no request running behind it.
    await Promise.allSettled(requests);
    const [flow, generations, images] = await Promise.all(requests);
    const lookup = imageLookup();
    for (const image of images.body.data) lookup.remember(image);
    const ordered = oldestFirst(generations.items);
    const items = await Promise.all(ordered.map((generation, index) => generationItem(generation, index + 1, lookup)));
    if (current !== loads) return;
    const { data } = flow.body;
    const aliases = Object.entries(data.aliases);
    byId("flow-meta").replaceChildren(
      h("dt", {}, "Id"),
      h("dd", {}, h("code", {}, data.id)),
      h("dt", {}, "Generations"),
      h("dd", {}, String(data.generationCount)),
      h("dt", {}, "Images"),
      h("dd", {}, String(data.imageCount)),
      h("dt", {}, "Created"),
      h("dd", {}, h("time", { datetime: data.createdAt }, formatDate(data.createdAt))),
    );
    byId("flow-aliases").replaceChildren(
      ...aliases.map(([alias, imageId]) => h("li", {}, h("a", { href: imagePageHref(imageId) }, alias))),
    );
    byId("flow-aliases-none").hidden = aliases.length > 0;
    byId("flow-generations").replaceChildren(...items);
    view.hidden = false;
    const shown = ordered.length;
    status.done(
      shown < generations.total
        ? `The newest ${shown} of ${generations.total} generations.`
        : `${shown} generation${shown === 1 ? "" : "s"}.`,
    );
    // The page was drawn after the browser looked for the #generation-… anchor: scroll to it now.
    const anchor = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    anchor?.scrollIntoView();
  } catch (error) {
    if (current !== loads) return;
    title.textContent = error instanceof ApiError && error.status === 404 ? "Flow not found" : "Flow";
    status.fail(error);
    statusElement.focus();
  }
}

// A key added (or removed) in the "API keys" menu applies at once, without a reload.
onKeysChanged(() => void load());
// Restored from the back/forward cache, the page may be stale: an alias or the flow may have changed meanwhile.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) void load();
});
void load();
