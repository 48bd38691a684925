import { h } from "../dom";
import { operationAnchor, operationView } from "./operation-view";
import { schemaView } from "./schema-view";
import { METHODS, type OpenApiDocument, type Operation } from "./types";

/** Operations grouped by their first tag, in document order. */
export function groupByTag(document: OpenApiDocument): Map<string, { method: string; path: string; operation: Operation }[]> {
  const groups = new Map<string, { method: string; path: string; operation: Operation }[]>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = operation.tags?.[0] ?? "Other";
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag)!.push({ method, path, operation });
    }
  }
  return groups;
}

/** The whole reference: a table of contents, operations by tag, then every named schema. */
export function renderReference(document: OpenApiDocument, target: HTMLElement, toc: HTMLElement): void {
  const groups = groupByTag(document);
  const tocList = h("ul", {});
  const body: HTMLElement[] = [h("p", {}, `${document.info.title} ${document.info.version}, OpenAPI ${document.openapi}.`)];
  for (const [tag, operations] of groups) {
    const tagId = `tag-${tag.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    const operationLinks = operations.map(({ method, path, operation }) =>
      h(
        "li",
        {},
        h("a", { href: `#${operationAnchor(method, path, operation)}`, class: "small-text" }, `${method.toUpperCase()} ${path}`),
      ),
    );
    tocList.append(h("li", {}, h("a", { href: `#${tagId}` }, tag), h("ul", { class: "toc-operations" }, ...operationLinks)));
    const description = document.tags?.find((item) => item.name === tag)?.description;
    body.push(
      h("h3", { id: tagId }, tag),
      description ? h("p", {}, description) : h("span", {}),
      ...operations.map(({ method, path, operation }) => operationView(document, method, path, operation)),
    );
  }
  const schemas = Object.entries(document.components?.schemas ?? {});
  if (schemas.length) {
    tocList.append(h("li", {}, h("a", { href: "#schemas" }, "Schemas")));
    body.push(h("h3", { id: "schemas" }, "Schemas"));
    for (const [name, schema] of schemas) {
      body.push(
        h(
          "details",
          { class: "block", id: `schema-${name}` },
          h("summary", {}, name),
          schema.description ? h("p", {}, schema.description) : h("span", {}),
          schemaView(document, schema),
        ),
      );
    }
  }
  toc.replaceChildren(tocList);
  target.replaceChildren(...body);
}
