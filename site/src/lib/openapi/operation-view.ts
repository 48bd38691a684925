import { h, withInlineCode } from "../dom";
import { schemaView } from "./schema-view";
import { tryIt } from "./try-it";
import type { OpenApiDocument, Operation } from "./types";

/** Who may call an operation, read from its security requirement. */
function authLine(operation: Operation): string {
  if (!operation.security?.length) return "Public: no key needed.";
  return "Needs an API key in X-API-Key (or Authorization: Bearer).";
}

/** The id of an operation's section: its operationId, or one made from method and path. */
export function operationAnchor(method: string, path: string, operation: Operation): string {
  return operation.operationId ?? `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
}

/** One operation: method, path, summary, parameters, request body, responses and a "try it" form. */
export function operationView(document: OpenApiDocument, method: string, path: string, operation: Operation): HTMLElement {
  const anchor = operationAnchor(method, path, operation);
  const section = h(
    "section",
    { class: "operation", id: anchor, "aria-labelledby": `${anchor}-title` },
    h(
      "h4",
      { id: `${anchor}-title` },
      h("span", { class: `method ${method}` }, method.toUpperCase()),
      h("code", {}, path),
      h("span", {}, operation.summary ?? ""),
    ),
    operation.description ? h("p", {}, withInlineCode(operation.description)) : null,
    h("p", { class: "muted small-text" }, authLine(operation)),
  );
  const parameters = operation.parameters ?? [];
  if (parameters.length) {
    const rows = parameters.map((parameter) =>
      h(
        "tr",
        {},
        h("td", {}, h("code", {}, parameter.name), parameter.required ? h("span", { class: "required" }, " required") : null),
        h("td", {}, parameter.in),
        h("td", {}, [parameter.schema?.type, parameter.schema?.format].filter(Boolean).join(" ")),
        h(
          "td",
          {},
          withInlineCode(
            [
              parameter.description ?? parameter.schema?.description,
              parameter.schema?.enum ? `one of ${parameter.schema.enum.join(", ")}` : undefined,
            ]
              .filter(Boolean)
              .join(". "),
          ),
        ),
      ),
    );
    section.append(
      h("h5", {}, "Parameters"),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Name"),
              h("th", { scope: "col" }, "In"),
              h("th", { scope: "col" }, "Type"),
              h("th", { scope: "col" }, "Description"),
            ),
          ),
          h("tbody", {}, ...rows),
        ),
      ),
    );
  }
  for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
    section.append(h("h5", {}, "Request body ", h("code", {}, type)));
    if (media.schema) section.append(schemaView(document, media.schema));
  }
  const responses = Object.entries(operation.responses ?? {});
  if (responses.length) {
    section.append(h("h5", {}, "Responses"));
    for (const [status, response] of responses) {
      const details = h("details", {}, h("summary", {}, h("strong", {}, status), ` ${response.description ?? ""}`));
      for (const [type, media] of Object.entries(response.content ?? {})) {
        details.append(h("p", { class: "muted small-text" }, type));
        if (media.schema) details.append(schemaView(document, media.schema));
      }
      section.append(details);
    }
  }
  section.append(tryIt(document, method, path, operation));
  return section;
}
