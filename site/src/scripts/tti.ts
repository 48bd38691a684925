import { apiUrl, callApi, loadInfo } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { cancelOutcomeText, followGeneration, isEnded, RESPOND_ASYNC } from "../lib/async-generation";
import { codeTabs } from "../lib/code-tabs";
import { byId, fillSelect, h, prettyJson, safeHref } from "../lib/dom";
import { formatBytes, formatMs } from "../lib/format";
import { jsonTree } from "../lib/json-tree";
import { getKey, onKeysChanged } from "../lib/key-store";
import { costText, formatUsdMicros, imagePriceText, quoteText } from "../lib/money";
import { ApiError, isMissingKey } from "../lib/problem";
import { showQuota } from "../lib/quota";
import { type PickedReference, pickedImage, referenceCount } from "../lib/reference-picker";
import { jsonPostSnippets } from "../lib/snippets";
import { statusRegion } from "../lib/status";
import { referencePicker } from "./tti-references";

const form = byId<HTMLFormElement>("tti-form");
const prompt = byId<HTMLTextAreaElement>("prompt");
const template = byId<HTMLSelectElement>("template");
const aspectRatio = byId<HTMLSelectElement>("aspect-ratio");
const outputFormat = byId<HTMLSelectElement>("output-format");
const respondAsync = byId<HTMLInputElement>("respond-async");
const generate = byId<HTMLButtonElement>("generate");
const formStatus = statusRegion(byId("tti-status"));
const showCode = codeTabs(byId("tti-code"));
const templateHints = new Map<string, string>();
const references = referencePicker();
/** The flow the next generation continues: the edited result's, or none (each call then starts its own). */
let flowId: string | null = null;
const GENERATIONS_PATH = "/api/v1/generations";
const PROMPT_MODE = { fresh: "Any language.", edit: "Describe the change to the reference, in any language." };

/**
 * The v1 body of one of the two calls, `enhanced` saying which, with the references and flow when
 * there are any. POST /api/quotes takes the same body, so each quote counts the references too.
 */
function requestBody(enhanced: boolean) {
  const referenceImages = references.references().map((reference) => reference.id);
  return {
    prompt: prompt.value,
    aspectRatio: aspectRatio.value,
    outputFormat: outputFormat.value,
    autoEnhance: enhanced,
    ...(enhanced ? { enhancementOptions: { template: template.value } } : {}),
    ...(referenceImages.length ? { referenceImages } : {}),
    ...(flowId ? { flowId } : {}),
  };
}

function updateForm() {
  byId("prompt-count").textContent = String(prompt.value.length);
  byId("template-hint").textContent = templateHints.get(template.value) ?? "";
  byId("flow-line").hidden = !flowId;
  byId("flow-id").textContent = flowId ?? "";
  showCode(jsonPostSnippets(apiUrl(GENERATIONS_PATH), requestBody(true), "outputImage.url", respondAsync.checked));
  scheduleQuote();
}

/**
 * Starts editing `reference`: it becomes the only reference, its flow (when it has one) is
 * continued, and the prompt is emptied and focused for the change to make.
 */
function startEdit(reference: PickedReference, flow: string | null) {
  references.replace([reference]);
  flowId = flow;
  prompt.value = "";
  prompt.placeholder = "Describe the change";
  byId("prompt-mode").textContent = PROMPT_MODE.edit;
  updateForm();
  prompt.focus();
}

/** Back to a fresh start: no flow to continue, the usual prompt hint. */
function startNewFlow() {
  flowId = null;
  prompt.placeholder = "";
  byId("prompt-mode").textContent = PROMPT_MODE.fresh;
  updateForm();
}

/** The image of /demo/tti?edit=<image id or @alias>, as the gallery links it, until it is loaded. */
let imageToEdit = new URLSearchParams(window.location.search).get("edit");

/** Loads `imageToEdit` into the picker, ready to edit; without a key, it waits for one. */
async function openImageToEdit() {
  const ref = imageToEdit;
  if (!ref) return;
  try {
    const result = await callApi<ApiBody<"getV1Image", 200>>(`/api/v1/images/${encodeURIComponent(ref)}`, { key: "project" });
    imageToEdit = null;
    startEdit(pickedImage(result.body.data), result.body.data.flowId);
  } catch (error) {
    if (!isMissingKey(error)) imageToEdit = null;
    formStatus.fail(error);
  }
}

const quoteLine = byId("quote");
let quoteTimer: ReturnType<typeof setTimeout> | undefined;
let quotes = 0;

/** Quotes the two bodies a short pause after the last change, so typing does not send a request per key. */
function scheduleQuote() {
  clearTimeout(quoteTimer);
  quoteTimer = setTimeout(showQuote, 300);
}

function setQuoteLine(state: "busy" | "done" | "error" | "idle", ...content: (Node | string)[]) {
  quoteLine.dataset.state = state;
  quoteLine.replaceChildren(...content);
}

/** What the two calls could cost at most, from POST /api/quotes, which calls no model and spends nothing. */
async function showQuote() {
  const quote = ++quotes;
  if (!getKey("project"))
    return setQuoteLine("idle", "Quote: add a project key with the “API keys” menu to see what this would cost.");
  if (!prompt.value.trim() || prompt.value.length > prompt.maxLength)
    return setQuoteLine("idle", "Quote: write a prompt to see what it would cost.");
  setQuoteLine("busy", "Quoting…");
  try {
    const [plainQuote, enhancedQuote] = await Promise.all(
      [requestBody(false), requestBody(true)].map((body) =>
        callApi<ApiBody<"createQuote", 200>>("/api/quotes", { method: "POST", json: body, key: "project" }).then(
          (result) => result.body.data,
        ),
      ),
    );
    if (quote !== quotes || !plainQuote || !enhancedQuote) return;
    const referenced = references.references().length;
    const part = (id: string, value: Schema<"Quote">) =>
      h("span", { id, "data-usd-micros": String(value.usdMicros) }, quoteText(value));
    const total = { usdMicros: plainQuote.usdMicros + enhancedQuote.usdMicros, provider: plainQuote.provider };
    setQuoteLine(
      "done",
      "Quote before generating: ",
      h("strong", { id: "quote-total", "data-usd-micros": String(total.usdMicros) }, quoteText(total)),
      " for both (",
      part("quote-plain", plainQuote),
      " without enhancement, ",
      part("quote-enhanced", enhancedQuote),
      ` with; prices of ${enhancedQuote.priceVersion}).`,
      referenced ? ` Includes ${referenceCount(referenced).toLowerCase()}.` : "",
    );
  } catch (error) {
    if (quote !== quotes) return;
    setQuoteLine(
      "error",
      `Quote unavailable: ${error instanceof ApiError ? (error.problem.code ?? error.message) : String(error)}.`,
    );
  }
}

async function loadOptions() {
  try {
    const info = await loadInfo();
    prompt.maxLength = info.limits.maxPromptLength;
    byId("pricing-fact").textContent = imagePriceText(info.pricing);
    byId("prompt-max").textContent = String(info.limits.maxPromptLength);
    for (const item of info.templates) templateHints.set(item.id, item.description);
    fillSelect(
      template,
      info.templates.map((item) => ({ value: item.id, label: item.id })),
      "general",
    );
    fillSelect(
      aspectRatio,
      info.aspectRatios.map((item) => ({
        value: item.ratio,
        label: `${item.ratio} ${item.name} (${item.width}×${item.height})`,
      })),
      "1:1",
    );
    fillSelect(
      outputFormat,
      info.formats.output.map((format) => ({ value: format, label: format })),
      "png",
    );
  } catch (error) {
    formStatus.fail(error);
  }
  updateForm();
}

/** Alt text from the prompt, cut to a length a screen reader can read out without burying the page. */
function altText(promptSent: string): string {
  const limit = 150;
  const text = promptSent.trim();
  return `Generated from: ${text.length > limit ? `${text.slice(0, limit - 1).trimEnd()}…` : text}`;
}

/** One side of the comparison: its slot, its status line, and what it shows once answered. */
function resultPanel(id: string, name: string) {
  const section = byId(id);
  const slot = section.querySelector<HTMLElement>(".result-slot")!;
  const statusElement = section.querySelector<HTMLElement>(".result-status")!;
  const status = statusRegion(statusElement);
  // An asynchronous generation's statuses as they change, and its Cancel button with what canceling answered.
  const lifecycle = h("p", { class: "lifecycle small-text", hidden: true });
  const cancelButton = h("button", { type: "button", class: "secondary small", hidden: true }, "Cancel");
  const cancelElement = h("div", { class: "status cancel-status", role: "status", "aria-live": "polite" });
  const cancelStatus = statusRegion(cancelElement);
  section.insertBefore(h("div", { class: "lifecycle-line" }, lifecycle, cancelButton), statusElement);
  section.insertBefore(cancelElement, statusElement);
  let seen: string[] = [];
  let onCancel: (() => void) | undefined;
  cancelButton.addEventListener("click", () => onCancel?.());
  const track = (generation: Schema<"V1Generation">) => {
    if (seen.at(-1) !== generation.status) seen.push(generation.status);
    lifecycle.dataset.status = generation.status;
    lifecycle.replaceChildren("Status: ", h("strong", {}, seen.join(" → ")));
    const open = generation.status === "pending" || generation.status === "processing";
    cancelButton.hidden = !open;
    if (open) status.busy(generation.status === "pending" ? "Pending: queued, not started yet…" : "Processing…");
  };
  return {
    status,
    cancelStatus,
    /** A 202: the generation is queued; `cancel` runs when the visitor presses Cancel. */
    queued(generation: Schema<"V1Generation">, cancel: () => void) {
      seen = [];
      onCancel = cancel;
      lifecycle.hidden = false;
      track(generation);
    },
    /** A newer status read from the generation's Location. */
    progress: track,
    /** Hides the lifecycle of an earlier asynchronous run before a new run starts. */
    reset() {
      seen = [];
      onCancel = undefined;
      lifecycle.hidden = true;
      cancelButton.hidden = true;
      cancelStatus.clear();
    },
    cancelButton,
    waiting() {
      section.setAttribute("aria-busy", "true");
      // A visible stopwatch; kept out of the live region so screen readers are not told every tenth of a second.
      const clock = h("span", { class: "muted", "aria-hidden": "true" }, "0.0 s");
      const started = performance.now();
      const timer = setInterval(() => {
        if (!clock.isConnected) return clearInterval(timer);
        clock.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      }, 100);
      slot.replaceChildren(
        h(
          "div",
          { class: "placeholder" },
          h("p", {}, h("span", { class: "spinner", "aria-hidden": "true" }), "Generating… "),
          clock,
        ),
      );
      status.busy("Generating…");
    },
    show(generation: Schema<"V1Generation">, clientMs: number) {
      section.setAttribute("aria-busy", "false");
      const output = generation.outputImage;
      if (!output) return this.fail(new ApiError(0, { title: "No image", detail: "The generation answered without an image." }));
      const image = h("img", {
        class: "result-image",
        src: safeHref(output.url),
        alt: altText(generation.prompt),
        width: String(output.width),
        height: String(output.height),
      });
      const edit = h(
        "button",
        { type: "button", class: "secondary", "aria-describedby": section.getAttribute("aria-labelledby") ?? undefined },
        "Edit this image",
      );
      edit.addEventListener("click", () =>
        startEdit(
          { id: output.id, url: output.url, label: `The result ${name}, ${output.width}×${output.height}` },
          generation.flowId,
        ),
      );
      const meta = h(
        "dl",
        { class: "meta" },
        h("dt", {}, "Time"),
        h(
          "dd",
          { class: "elapsed" },
          `${formatMs(clientMs)} in the browser, ${formatMs(generation.timings.totalMs)} on the server`,
        ),
        h("dt", {}, "Image"),
        h(
          "dd",
          {},
          `${output.width}×${output.height} ${output.mimeType.replace(/^image\//, "")}, ${formatBytes(output.fileSize)}`,
        ),
        h("dt", {}, "Model"),
        h("dd", {}, `${generation.model ?? "unknown"} (${generation.provider ?? "unknown provider"})`),
        h("dt", {}, "References"),
        h("dd", { class: "references" }, referenceCount(generation.referencedImages.length)),
        h("dt", {}, "Flow"),
        h("dd", { class: "flow" }, h("code", {}, generation.flowId ?? "none")),
        h("dt", {}, "Cost"),
        h(
          "dd",
          { class: "cost", "data-usd-micros": String(generation.cost.usdMicros) },
          costText(generation.cost.usdMicros),
          ` (image ${formatUsdMicros(generation.cost.breakdown.generation)}, enhancement ${formatUsdMicros(generation.cost.breakdown.enhancement)})`,
        ),
        h("dt", {}, "URL"),
        h("dd", {}, h("a", { href: safeHref(output.url) }, "Open the image")),
      );
      slot.replaceChildren(image, meta, h("div", { class: "toolbar" }, edit));
      status.done(`Done in ${formatMs(clientMs)}.`);
    },
    fail(error: unknown) {
      section.setAttribute("aria-busy", "false");
      slot.replaceChildren(h("div", { class: "placeholder" }, "No image."));
      status.fail(error);
    },
  };
}

const plain = resultPanel("result-plain", "without enhancement");
const enhanced = resultPanel("result-enhanced", "with enhancement");

/** `sent` is the prompt of the request, which the visitor may have edited since. */
function showEnhancement(enhancement: Schema<"V1Generation">["enhancement"], sent: string) {
  const section = byId("prompt-comparison");
  section.hidden = !enhancement;
  if (!enhancement) return;
  // Only an applied enhancement has prompts and facts; a skipped one says why.
  const applied = enhancement.applied ? enhancement : undefined;
  byId("original-prompt").textContent = applied?.originalPrompt ?? sent;
  byId("enhanced-prompt").textContent = enhancement.applied ? enhancement.enhancedPrompt : `Not enhanced: ${enhancement.reason}`;
  const facts = [
    applied?.template && `Template ${applied.template}`,
    applied?.detectedLanguage && `language ${applied.detectedLanguage}`,
    applied?.translated ? "translated to English" : undefined,
    applied?.enhancer && `enhancer ${applied.enhancer}`,
    applied?.cached ? "from the prompt cache" : undefined,
  ].filter(Boolean);
  byId("enhancement-facts").textContent = facts.join(", ");
  byId("improvements").replaceChildren(...(applied?.improvements ?? []).map((item) => h("li", {}, item)));
}

/**
 * A generation that did not succeed, as a problem the status region can show: its errorCode and
 * message, or, when the page stopped following it before it ended, where to find it later.
 */
function generationFailure(generation: Schema<"V1Generation">): ApiError {
  if (!isEnded(generation.status))
    return new ApiError(0, {
      title: "No longer followed",
      detail: `The page stopped following generation ${generation.id} while it was ${generation.status}: GET ${GENERATIONS_PATH}/${generation.id} says how it ended.`,
    });
  return new ApiError(0, {
    title: "Generation failed",
    detail: generation.errorMessage ?? undefined,
    code: generation.errorCode ?? undefined,
  });
}

/** Cancels a queued generation of `panel` and shows what the API answered: 200, 202 or the 409 problem. */
async function cancel(panel: ReturnType<typeof resultPanel>, generationId: string) {
  panel.cancelButton.setAttribute("aria-disabled", "true");
  panel.cancelStatus.busy("Canceling…");
  try {
    const result = await callApi<ApiBody<"cancelGenerationV1", 200>>(`${GENERATIONS_PATH}/${generationId}/cancel`, {
      method: "POST",
      key: "project",
    });
    panel.cancelStatus.done(cancelOutcomeText(result.status));
  } catch (error) {
    panel.cancelStatus.fail(error);
  } finally {
    panel.cancelButton.removeAttribute("aria-disabled");
  }
}

/** Stops following queued generations when the page is left, so no read outlives it. */
let following = new AbortController();
window.addEventListener("pagehide", () => following.abort());

async function run(panel: ReturnType<typeof resultPanel>, body: ReturnType<typeof requestBody>, queue: boolean) {
  panel.reset();
  panel.waiting();
  const started = performance.now();
  try {
    const result = await callApi<ApiBody<"createGenerationV1", 201 | 202>>(GENERATIONS_PATH, {
      method: "POST",
      json: body,
      key: "project",
      headers: queue ? RESPOND_ASYNC : {},
    });
    let generation = result.body.data;
    if (result.status === 202) {
      const id = generation.id;
      panel.queued(generation, () => cancel(panel, id));
      const location = result.headers.get("Location") ?? `${GENERATIONS_PATH}/${id}`;
      generation = await followGeneration(location, generation, following.signal, panel.progress);
      panel.progress(generation);
      if (generation.status !== "success") {
        const error = generationFailure(generation);
        panel.fail(error);
        return { ok: false as const, body: { ...result.body, data: generation }, error };
      }
    }
    panel.show(generation, performance.now() - started);
    return { ok: true as const, body: { ...result.body, data: generation }, generation };
  } catch (error) {
    panel.fail(error);
    return { ok: false as const, body: error instanceof ApiError ? error.body : String(error), error };
  }
}

let generating = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // aria-disabled rather than disabled while busy, so keyboard focus stays on the button.
  if (generating) return;
  if (!prompt.value.trim()) {
    formStatus.fail(new ApiError(400, { title: "Write a prompt first", detail: "The prompt cannot be empty." }));
    prompt.focus();
    return;
  }
  generating = true;
  generate.setAttribute("aria-disabled", "true");
  formStatus.busy("Generating two images in parallel…");
  try {
    const bodies = { withoutEnhancement: requestBody(false), withEnhancement: requestBody(true) };
    const queue = respondAsync.checked;
    const headers = { "Content-Type": "application/json", "X-API-Key": "(your project key)", ...(queue ? RESPOND_ASYNC : {}) };
    byId("request-headers").firstElementChild!.textContent = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n");
    byId("request-json").firstElementChild!.textContent = prettyJson(bodies);
    byId("response-json").firstElementChild!.textContent = "Waiting for the answers…";
    byId("response-tree").replaceChildren(h("p", { class: "muted" }, "Waiting for the answers…"));
    const started = performance.now();
    following = new AbortController();
    const [first, second] = await Promise.all([
      run(plain, bodies.withoutEnhancement, queue),
      run(enhanced, bodies.withEnhancement, queue),
    ]);
    const received = { withoutEnhancement: first.body, withEnhancement: second.body };
    byId("response-json").firstElementChild!.textContent = prettyJson(received);
    byId("response-tree").replaceChildren(jsonTree(received));
    showEnhancement(second.ok ? (second.generation.enhancement ?? null) : null, bodies.withEnhancement.prompt);
    // Read once both have counted: the two answers' own headers may arrive in either order.
    showQuota(byId("quota"));
    const failure = [first, second].find((result) => !result.ok);
    if (failure && !failure.ok) formStatus.fail(failure.error);
    else {
      const spent = first.ok && second.ok ? first.generation.cost.usdMicros + second.generation.cost.usdMicros : 0;
      formStatus.done(`Both images ready in ${formatMs(performance.now() - started)}, costing ${costText(spent)} together.`);
    }
  } catch (error) {
    // A bug while showing the answers must not leave the page busy for ever.
    formStatus.fail(error);
  } finally {
    generating = false;
    generate.removeAttribute("aria-disabled");
  }
});

for (const control of [prompt, template, aspectRatio, outputFormat, respondAsync]) control.addEventListener("input", updateForm);
// A key added in the "API keys" menu applies at once: fresh quota, and no stale "add a key" problem.
references.onChange(updateForm);
byId("new-flow").addEventListener("click", startNewFlow);
onKeysChanged(() => {
  references.keyChanged();
  showQuota(byId("quota"));
  scheduleQuote();
  for (const region of [formStatus, plain.status, enhanced.status]) if (isMissingKey(region.error())) region.clear();
  openImageToEdit();
});
loadOptions();
showQuota(byId("quota"));
openImageToEdit();
