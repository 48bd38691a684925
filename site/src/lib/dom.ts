/** The element with this id; a missing one is a bug in the page, so it throws at once. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

type Child = Node | string | null | undefined | false;

/** A small element builder: text is always set as text, never parsed as HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "class") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** Fills a <select> with options, keeping the current choice when it still exists. */
export function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], preferred?: string): void {
  const current = select.value || preferred;
  select.replaceChildren(...options.map((option) => h("option", { value: option.value }, option.label)));
  if (current && options.some((option) => option.value === current)) select.value = current;
}

/** Pretty JSON for <pre> blocks. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Text from the OpenAPI document with its `backtick` spans as <code>, everything else as plain text. */
export function withInlineCode(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  text.split(/`([^`]+)`/).forEach((part, index) => {
    fragment.append(index % 2 ? h("code", {}, part) : part);
  });
  return fragment;
}

/**
 * A URL the API returned, fit for an href or src: http(s) only, so a `javascript:` or `data:`
 * value can never become a link. Undefined otherwise (h() then leaves the attribute out).
 */
export function safeHref(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, window.location.origin);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}
