import { apiUrl, loadInfo } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { codeTabs } from "../lib/code-tabs";
import { byId, h, safeHref } from "../lib/dom";
import { formatBytes, formatDate, formatMegapixels, formatMs } from "../lib/format";
import { checkFile, checkPixels, type ImageFacts, readImageFacts } from "../lib/image-file";
import { onKeysChanged } from "../lib/key-store";
import { ApiError, isMissingKey } from "../lib/problem";
import { showQuota, showQuotaFromHeaders } from "../lib/quota";
import { uploadSnippets } from "../lib/snippets";
import { statusRegion } from "../lib/status";
import { timeDownload, uploadFile } from "../lib/upload";

const input = byId<HTMLInputElement>("file-input");
const zone = byId("drop-zone");
const form = byId<HTMLFormElement>("upload-form");
const button = byId<HTMLButtonElement>("upload-button");
const progress = byId<HTMLProgressElement>("upload-progress");
const checkStatus = statusRegion(byId("check-status"));
const uploadStatus = statusRegion(byId("upload-status"));
const showCode = codeTabs(byId("upload-code"));
interface HistoryEntry {
  upload: Schema<"Upload">;
  uploadMs: number;
  downloadMs: number | null;
}

/** This tab's uploads survive a reload (sessionStorage) and end with the tab. */
const HISTORY_KEY = "banatie.uploadHistory";

function loadHistory(): HistoryEntry[] {
  try {
    return JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? "[]") as HistoryEntry[];
  } catch {
    return [];
  }
}

const history = loadHistory();
let info: Schema<"Info"> | undefined;
let chosen: File | undefined;
/** The name of the file last picked, valid or not: the snippets use it. */
let pickedName = "photo.png";
/** The object URL the preview shows now; revoked when a newer choice replaces it. */
let previewUrl: string | undefined;
/** Numbers each choice: reading a file takes time, and only the newest choice may show its result. */
let latestChoice = 0;
/** While an upload runs, the file cannot change under it. */
let uploading = false;

function fields(): Record<string, string> {
  const data = new FormData(form);
  const result: Record<string, string> = {};
  const filename = String(data.get("filename") ?? "").trim();
  if (filename) result.filename = filename;
  const category = String(data.get("category") ?? "uploads");
  if (category !== "uploads") result.category = category;
  return result;
}

function updateCode() {
  showCode(uploadSnippets(apiUrl("/api/upload"), pickedName, fields()));
}

function metaList(target: HTMLElement, rows: [string, Node | string][]) {
  target.replaceChildren(...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

async function choose(file: File) {
  if (uploading) return;
  const ticket = ++latestChoice;
  chosen = undefined;
  pickedName = file.name;
  button.disabled = true;
  progress.value = 0;
  uploadStatus.clear();
  checkStatus.busy(`Checking ${file.name}…`);
  updateCode();
  // The limits come from /api/info; a file chosen before they arrived waits for them.
  const limits = info ?? (await loadInfo().catch(() => undefined));
  const problems = limits ? checkFile(file, { maxUploadBytes: limits.limits.maxUploadBytes, types: limits.formats.upload }) : [];
  let facts: ImageFacts | undefined;
  let url: string | undefined;
  if (!problems.length) {
    url = URL.createObjectURL(file);
    try {
      facts = await readImageFacts(url);
      if (limits) problems.push(...checkPixels(facts, limits.limits.maxImagePixels));
    } catch (error) {
      problems.push(String(error instanceof Error ? error.message : error));
    }
  }
  if (ticket !== latestChoice) {
    // A newer file was chosen meanwhile: it owns the preview and the status.
    if (url) URL.revokeObjectURL(url);
    return;
  }
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = facts ? url : undefined;
  if (url && !facts) URL.revokeObjectURL(url);
  byId("preview").hidden = !facts;
  if (facts && previewUrl) {
    const preview = byId<HTMLImageElement>("preview-image");
    preview.width = facts.width;
    preview.height = facts.height;
    preview.src = previewUrl;
    metaList(byId("preview-meta"), [
      ["File", file.name],
      ["Type", file.type],
      ["Size", `${formatBytes(file.size)} (${file.size} bytes)`],
      ["Dimensions", `${facts.width}×${facts.height}`],
      ["Aspect ratio", facts.ratio],
    ]);
  }
  if (!limits) {
    checkStatus.fail(
      new ApiError(0, { title: "The API's limits could not be loaded", detail: "Reload the page to check this file." }),
    );
    return;
  }
  if (problems.length) {
    checkStatus.fail(new ApiError(0, { title: "This file cannot be uploaded", detail: problems.join(" ") }));
    return;
  }
  chosen = file;
  button.disabled = false;
  checkStatus.done(`${file.name} passes the checks: ready to upload.`);
}

/** Locks the file input and drop zone (and marks the button) while an upload runs. */
function setUploading(busy: boolean) {
  uploading = busy;
  input.disabled = busy;
  for (const element of [zone, button]) {
    if (busy) element.setAttribute("aria-disabled", "true");
    else element.removeAttribute("aria-disabled");
  }
}

function renderHistory() {
  if (!history.length) return;
  byId("history").replaceChildren(
    ...history.map(({ upload, uploadMs, downloadMs }) =>
      h(
        "tr",
        {},
        h("td", {}, upload.filename ?? upload.id),
        h("td", {}, formatBytes(upload.bytes)),
        h("td", {}, `${upload.width}×${upload.height}`),
        h("td", {}, formatMs(uploadMs)),
        h("td", {}, downloadMs === null ? "—" : formatMs(downloadMs)),
        h("td", {}, h("a", { href: safeHref(upload.url) }, "Open")),
      ),
    ),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // aria-disabled rather than disabled while uploading, so keyboard focus stays on the button.
  if (!chosen || uploading) return;
  const file = chosen;
  const data = new FormData();
  data.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields())) data.append(name, value);
  setUploading(true);
  progress.value = 0;
  uploadStatus.busy(`Uploading ${file.name}…`);
  try {
    const { body, ms, header } = await uploadFile<ApiBody<"uploadImage", 201>>(data, (fraction) => {
      progress.value = Math.round(fraction * 100);
      uploadStatus.busy(`Uploading ${file.name}… ${progress.value}%`);
    });
    const upload = body.data;
    showQuotaFromHeaders(byId("quota"), header);
    uploadStatus.busy("Uploaded; timing a download of the stored image…");
    const downloadMs = await timeDownload(upload.url).catch(() => null);
    history.unshift({ upload, uploadMs: ms, downloadMs });
    try {
      sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    } catch {
      // Storage full or disabled: the list still shows this tab's uploads until it reloads.
    }
    renderHistory();
    byId("upload-result").hidden = false;
    metaList(byId("result-meta"), [
      ["URL", h("a", { href: safeHref(upload.url), id: "result-url" }, upload.url)],
      ["Type", upload.mimeType],
      ["Size", formatBytes(upload.bytes)],
      ["Dimensions", `${upload.width}×${upload.height} (${upload.aspectRatio})`],
      ["Category", upload.category],
      ["Created", formatDate(upload.createdAt)],
      ["Upload time", formatMs(ms)],
      ["Download time", downloadMs === null ? "download failed" : formatMs(downloadMs)],
    ]);
    uploadStatus.done(`Uploaded in ${formatMs(ms)}.`);
  } catch (error) {
    uploadStatus.fail(error);
  } finally {
    setUploading(false);
    button.disabled = !chosen;
  }
});

input.addEventListener("change", () => {
  const file = input.files?.[0];
  if (file) choose(file);
});
for (const name of ["dragenter", "dragover"]) {
  zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
}
for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  // Always prevented, so a file dropped during an upload is ignored rather than opened by the browser.
  event.preventDefault();
  const file = event.dataTransfer?.files[0];
  if (file && !uploading) choose(file);
});
form.addEventListener("input", updateCode);

loadInfo()
  .then((loaded) => {
    info = loaded;
    input.accept = loaded.formats.upload.join(",");
    byId("limits-hint").textContent =
      `${loaded.formats.upload.map((type) => type.replace("image/", "").toUpperCase()).join(", ")}, up to ${formatBytes(loaded.limits.maxUploadBytes)} and ${formatMegapixels(loaded.limits.maxImagePixels)}.`;
  })
  .catch((error) => checkStatus.fail(error));
// A key added in the "API keys" menu applies at once: fresh quota, and no stale "add a key" problem.
onKeysChanged(() => {
  showQuota(byId("quota"));
  if (isMissingKey(uploadStatus.error())) uploadStatus.clear();
});
renderHistory();
updateCode();
showQuota(byId("quota"));
