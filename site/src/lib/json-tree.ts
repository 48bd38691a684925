import { h } from "./dom";

/** Objects and arrays deeper than this start folded, so large answers stay readable. */
const OPEN_DEPTH = 4;

function leaf(value: unknown): HTMLElement {
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return /^https?:\/\//.test(value)
      ? h("a", { href: value, class: "json-string" }, text)
      : h("span", { class: "json-string" }, text);
  }
  return h("span", { class: value === null ? "json-null" : `json-${typeof value}` }, String(value));
}

/**
 * A JSON value as a tree of <details> elements: every object and array can be folded, keys
 * are labelled, URLs are links. Keyboard users fold with Enter or Space on each summary.
 */
export function jsonTree(value: unknown, name?: string, depth = 0): HTMLElement {
  const label = name === undefined ? null : h("span", { class: "json-key" }, `${name}: `);
  if (value === null || typeof value !== "object") return h("div", { class: "json-leaf" }, label, leaf(value));
  const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const node = h(
    "details",
    { class: "json-node", open: depth < OPEN_DEPTH },
    h("summary", {}, label, h("span", { class: "muted" }, summary)),
  );
  for (const [key, item] of entries) node.append(jsonTree(item, key, depth + 1));
  return node;
}
