import { type ApiCall, callApi } from "../api";
import { h, prettyJson } from "../dom";
import type { KeyKind } from "../key-store";
import { ApiError, renderProblem } from "../problem";
import { sampleValue } from "./schema-view";
import type { OpenApiDocument, Operation } from "./types";

let counter = 0;

/**
 * A small form that sends this operation from the browser with a stored key: one input per
 * path and query parameter, a JSON body where the operation takes one. Multipart uploads are
 * left to the upload workbench.
 */
export function tryIt(document: OpenApiDocument, method: string, path: string, operation: Operation): HTMLElement {
  const id = `try-${++counter}`;
  const parameters = (operation.parameters ?? []).filter((parameter) => parameter.in === "path" || parameter.in === "query");
  const jsonBody = operation.requestBody?.content?.["application/json"];
  const multipart = operation.requestBody?.content?.["multipart/form-data"];
  const secured = (operation.security ?? []).length > 0;
  const form = h("form", { class: "try-it", "aria-label": `Try ${method.toUpperCase()} ${path}` });
  const fields = h("div", { class: "grid-fields" });
  for (const parameter of parameters) {
    const inputId = `${id}-${parameter.in}-${parameter.name}`;
    fields.append(
      h(
        "div",
        { class: "field" },
        h(
          "label",
          { for: inputId },
          `${parameter.name}${parameter.required ? " *" : ""}`,
          h("span", { class: "muted" }, ` (${parameter.in})`),
        ),
        h("input", { id: inputId, name: `${parameter.in}:${parameter.name}`, required: parameter.required === true }),
      ),
    );
  }
  if (secured) {
    const keyId = `${id}-key`;
    const select = h(
      "select",
      { id: keyId, name: "key" },
      h("option", { value: "project" }, "project key"),
      h("option", { value: "master" }, "master key"),
      h("option", { value: "" }, "no key"),
    );
    if (path.startsWith("/api/admin")) select.value = "master";
    fields.append(h("div", { class: "field" }, h("label", { for: keyId }, "Send with"), select));
  }
  form.append(fields);
  if (jsonBody?.schema) {
    const bodyId = `${id}-body`;
    const textarea = h("textarea", { id: bodyId, name: "body", spellcheck: "false", class: "secret", rows: "6" });
    textarea.value = prettyJson(sampleValue(document, jsonBody.schema));
    form.append(h("div", { class: "field" }, h("label", { for: bodyId }, "JSON body"), textarea));
  }
  if (multipart)
    form.append(
      h("p", { class: "hint" }, "Multipart uploads: use the ", h("a", { href: "/demo/upload" }, "upload workbench"), "."),
    );
  const status = h("div", { id: `${id}-status`, class: "status", role: "status", "aria-live": "polite" });
  const output = h("pre", { id: `${id}-output`, tabindex: "0", hidden: true, "aria-label": "Response" });
  form.append(h("button", { type: "submit", class: "secondary" }, "Send request"), status, output);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    let url = path;
    const query: Record<string, string> = {};
    for (const parameter of parameters) {
      const value = String(data.get(`${parameter.in}:${parameter.name}`) ?? "");
      if (parameter.in === "path") url = url.replace(`{${parameter.name}}`, encodeURIComponent(value));
      else query[parameter.name] = value;
    }
    let json: unknown;
    const bodyText = String(data.get("body") ?? "");
    if (jsonBody && bodyText.trim()) {
      try {
        json = JSON.parse(bodyText);
      } catch (error) {
        status.replaceChildren(`The body is not valid JSON: ${String(error)}`);
        return;
      }
    }
    const key = String(data.get("key") ?? "") as KeyKind | "";
    status.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), "Sending…");
    output.hidden = true;
    try {
      const result = await callApi(url, {
        method: method.toUpperCase() as ApiCall["method"],
        query,
        json,
        key: key || undefined,
      });
      status.replaceChildren(`${result.status} in ${Math.round(result.ms)} ms`);
      output.textContent = prettyJson(result.body);
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError(0, { title: String(error) });
      status.replaceChildren(renderProblem(failure));
      output.textContent = prettyJson(failure.body);
    }
    output.hidden = false;
  });
  return h("details", { class: "block" }, h("summary", {}, "Try it"), form);
}
