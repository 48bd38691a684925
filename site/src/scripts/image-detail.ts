import { callApi } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { copyText } from "../lib/clipboard";
import { byId, h, prettyJson, safeHref } from "../lib/dom";
import { formatBytes, formatDate } from "../lib/format";
import { imageLookup, referenceList } from "../lib/image-lookup";
import { aliasFromInput, downloadFileName, editImageHref, flowPageHref, idParameter } from "../lib/image-pages";
import { onKeysChanged } from "../lib/key-store";
import { ApiError, toProblem } from "../lib/problem";
import { statusRegion } from "../lib/status";
import { BUILT_IN_PRESETS, presetUrl } from "../lib/thumbnail";

type V1Image = Schema<"V1Image">;

const imageId = idParameter(window.location.search);
const view = byId("image-view");
const title = byId("image-title");
const statusElement = byId("image-status");
const status = statusRegion(statusElement);
const aliasStatus = statusRegion(byId("alias-status"));
const generationStatus = statusRegion(byId("generation-status"));
const downloadStatus = statusRegion(byId("download-status"));
const fullImage = byId<HTMLImageElement>("full-image");
const storageUrl = byId<HTMLInputElement>("storage-url");
const aliasInput = byId<HTMLInputElement>("alias-input");
const aliasRemove = byId<HTMLButtonElement>("alias-remove");
const downloadLink = byId<HTMLAnchorElement>("download-link");

/** The image as last answered by the API; the buttons act on it. */
let shown: V1Image | undefined;
/** Numbers each load: after a key change only the newest may draw the page. */
let loads = 0;

function metaRows(target: HTMLElement, rows: [string, Node | string][]) {
  target.replaceChildren(...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function showAliases(image: V1Image) {
  byId("project-alias").replaceChildren(
    image.alias
      ? h("span", {}, "Project alias ", h("span", { class: "badge alias", id: "alias-badge" }, image.alias))
      : h("span", { class: "muted" }, "No project alias."),
  );
  byId("flow-aliases-block").hidden = image.flowAliases.length === 0;
  byId("flow-aliases").replaceChildren(...image.flowAliases.map((alias) => h("li", {}, alias)));
  aliasRemove.hidden = !image.alias;
  aliasRemove.textContent = image.alias ? `Remove alias ${image.alias}` : "Remove alias";
}

function showImage(image: V1Image) {
  shown = image;
  title.textContent = image.alias ? `Image ${image.alias}` : "Image";
  document.title = `${title.textContent} · Banatie`;
  fullImage.src = image.url;
  fullImage.width = image.width;
  fullImage.height = image.height;
  fullImage.alt = `The image, ${image.width}×${image.height}`;
  const fullLink = byId<HTMLAnchorElement>("full-image-link");
  const href = safeHref(image.url);
  if (href) fullLink.href = href;
  fullLink.setAttribute("aria-label", "Open the full image");
  storageUrl.value = image.storageUrl;
  byId<HTMLAnchorElement>("edit-link").href = editImageHref(image.id);
  const flowLink = byId<HTMLAnchorElement>("flow-link");
  flowLink.hidden = !image.flowId;
  if (image.flowId) flowLink.href = flowPageHref(image.flowId);
  metaRows(byId("image-meta"), [
    ["Dimensions", `${image.width}×${image.height}`],
    ["Type", image.mimeType],
    ["Size", formatBytes(image.fileSize)],
    ["Source", image.source],
    ["Created", h("time", { datetime: image.createdAt }, formatDate(image.createdAt))],
    ["Flow", image.flowId ? h("a", { href: flowPageHref(image.flowId) }, h("code", {}, image.flowId)) : "none"],
    ["Focal point", image.focalPoint ? `${image.focalPoint.x}, ${image.focalPoint.y}` : "none (the centre)"],
    ["Id", h("code", {}, image.id)],
  ]);
  showAliases(image);
  showPresets(image);
}

function showPresets(image: V1Image) {
  byId("presets").replaceChildren(
    ...BUILT_IN_PRESETS.map((preset) => {
      const url = presetUrl(image.storageUrl, preset);
      const size = h("span", { class: "muted small-text" }, "loading…");
      const picture = h("img", { src: url, alt: `The ${preset} preset of this image`, "data-preset": preset });
      picture.addEventListener("load", () => {
        size.textContent = `${picture.naturalWidth}×${picture.naturalHeight}`;
      });
      picture.addEventListener("error", () => {
        size.textContent = "did not load";
      });
      return h(
        "li",
        { class: "preset" },
        h("a", { href: safeHref(url), "aria-label": `Open the ${preset} preset` }, picture),
        h("span", {}, h("code", {}, preset), " ", size),
      );
    }),
  );
}

async function showGeneration(image: V1Image, current: number) {
  const target = byId("generation");
  target.replaceChildren();
  if (!image.generationId) {
    generationStatus.done(image.source === "uploaded" ? "Uploaded, not generated." : "No generation is recorded for it.");
    return;
  }
  generationStatus.busy("Loading the generation…");
  try {
    const generation = (
      await callApi<ApiBody<"getGenerationV1", 200>>(`/api/v1/generations/${image.generationId}`, { key: "project" })
    ).body.data;
    const references = await referenceList(generation.referencedImages, imageLookup());
    if (current !== loads) return;
    fullImage.alt = generation.originalPrompt ?? generation.prompt;
    target.replaceChildren(
      h(
        "dl",
        { class: "meta" },
        h("dt", {}, "Prompt sent to the model"),
        h("dd", { id: "generation-prompt" }, generation.prompt),
        h("dt", {}, "Original prompt"),
        h(
          "dd",
          { id: "generation-original-prompt" },
          generation.originalPrompt ?? h("span", { class: "muted" }, "the same: it was not enhanced"),
        ),
        h("dt", {}, "Aspect ratio"),
        h("dd", {}, generation.aspectRatio),
        h("dt", {}, "Model"),
        h("dd", {}, [generation.provider, generation.model].filter(Boolean).join(" · ") || "unknown"),
        h("dt", {}, "Regenerated"),
        h("dd", {}, `${generation.retryCount} time${generation.retryCount === 1 ? "" : "s"}`),
        h("dt", {}, "Created"),
        h("dd", {}, h("time", { datetime: generation.createdAt }, formatDate(generation.createdAt))),
        h("dt", {}, "Generation"),
        h(
          "dd",
          {},
          generation.flowId
            ? h("a", { id: "generation-link", href: flowPageHref(generation.flowId, generation.id) }, generation.id)
            : h("code", {}, generation.id),
        ),
      ),
      h("h3", {}, "Reference images"),
      references,
      h("details", { class: "block" }, h("summary", {}, "The generation as JSON"), h("pre", {}, prettyJson(generation))),
    );
    const count = generation.referencedImages.length;
    generationStatus.done(
      count
        ? `Generated from ${count} reference image${count === 1 ? "" : "s"} and the prompt.`
        : "Generated from the prompt alone.",
    );
  } catch (error) {
    if (current !== loads) return;
    if (error instanceof ApiError && error.status === 404) {
      generationStatus.done("The generation that made it was deleted; the image was kept.");
      return;
    }
    generationStatus.fail(error);
  }
}

/** The API's 404, saying in the visitor's terms what it can mean. */
function notFound(error: ApiError): ApiError {
  const detail = "No image of your key's project has this id: it may have been deleted, or belong to another project.";
  return new ApiError(404, { ...error.problem, detail }, error.body, error.headers);
}

async function load() {
  const current = ++loads;
  view.hidden = true;
  aliasStatus.clear();
  downloadStatus.clear();
  if (!imageId) {
    status.fail(new ApiError(0, { title: "No image named", detail: "This page shows one image: open it from the gallery." }));
    return;
  }
  status.busy("Loading the image…");
  try {
    const image = (await callApi<ApiBody<"getV1Image", 200>>(`/api/v1/images/${encodeURIComponent(imageId)}`, { key: "project" }))
      .body.data;
    if (current !== loads) return;
    showImage(image);
    view.hidden = false;
    status.done(`Image ${image.id}.`);
    await showGeneration(image, current);
  } catch (error) {
    if (current !== loads) return;
    title.textContent = error instanceof ApiError && error.status === 404 ? "Image not found" : "Image";
    status.fail(error instanceof ApiError && error.status === 404 ? notFound(error) : error);
    statusElement.focus();
  }
}

async function setAlias(alias: string | null) {
  if (!shown) return;
  aliasStatus.busy(alias ? `Setting ${alias}…` : "Removing the alias…");
  try {
    const image = (
      await callApi<ApiBody<"setV1ImageAlias", 200>>(`/api/v1/images/${shown.id}/alias`, {
        method: "PUT",
        json: { alias },
        key: "project",
      })
    ).body.data;
    shown = image;
    title.textContent = image.alias ? `Image ${image.alias}` : "Image";
    showAliases(image);
    aliasStatus.done(alias ? `The project alias is now ${alias}.` : "The project alias was removed.");
    if (!alias) aliasInput.value = "";
  } catch (error) {
    aliasStatus.fail(error);
    aliasInput.focus();
  }
}

/** Fetches the bytes and saves them from a blob: URL, so the file gets its name whatever the image host says. */
async function download() {
  if (!shown) return;
  const image = shown;
  downloadStatus.busy("Downloading the image…");
  try {
    let response: Response;
    try {
      response = await fetch(image.url);
    } catch (error) {
      throw new ApiError(0, {
        title: "Download failed",
        detail: `The image host could not be read from this page (${String(error)}): open the full image and save it instead.`,
      });
    }
    const blob = await response.blob();
    if (!response.ok) throw new ApiError(response.status, toProblem(response.status, response.statusText, await blob.text()));
    if (downloadLink.href.startsWith("blob:")) URL.revokeObjectURL(downloadLink.href);
    const name = downloadFileName(image.url, image.id, image.mimeType);
    downloadLink.href = URL.createObjectURL(blob);
    downloadLink.download = name;
    downloadLink.textContent = `Save ${name} again`;
    downloadLink.hidden = false;
    downloadLink.click();
    downloadStatus.done(`Downloaded ${name} (${formatBytes(blob.size)}).`);
  } catch (error) {
    downloadStatus.fail(error);
  }
}

byId<HTMLFormElement>("alias-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const alias = aliasFromInput(aliasInput.value);
  if (!alias) {
    aliasStatus.fail(new ApiError(0, { title: "No alias typed", detail: "Type an alias, such as @hero, then “Set alias”." }));
    aliasInput.focus();
    return;
  }
  void setAlias(alias);
});
aliasRemove.addEventListener("click", () => void setAlias(null));
byId("copy-url").addEventListener("click", () => {
  if (shown) void copyText(shown.storageUrl, byId("copy-feedback"), storageUrl);
});
byId("download").addEventListener("click", () => void download());
// A key added (or removed) in the "API keys" menu applies at once, without a reload.
onKeysChanged(() => void load());
// Restored from the back/forward cache, the page may be stale: an alias or the flow may have changed meanwhile.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) void load();
});
void load();
