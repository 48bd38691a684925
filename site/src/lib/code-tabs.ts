import { copyText } from "./clipboard";
import type { Snippets } from "./snippets";

const LANGUAGES: { id: keyof Snippets; label: string }[] = [
  { id: "curl", label: "cURL" },
  { id: "javascript", label: "JavaScript" },
  { id: "python", label: "Python" },
];

/**
 * Turns an empty `<div class="code-tabs">` into tabs (cURL, JavaScript, Python) with a copy
 * button; returns a function that shows new snippets. Arrow keys move between tabs.
 */
export function codeTabs(container: HTMLElement): (snippets: Snippets) => void {
  const name = container.dataset.label ?? "Code";
  const tablist = document.createElement("div");
  tablist.setAttribute("role", "tablist");
  tablist.setAttribute("aria-label", name);
  const panel = document.createElement("div");
  panel.setAttribute("role", "tabpanel");
  panel.id = `${container.id}-panel`;
  const pre = document.createElement("pre");
  const code = document.createElement("code");
  pre.append(code);
  pre.tabIndex = 0;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "secondary small";
  copy.textContent = "Copy";
  const feedback = document.createElement("span");
  feedback.className = "muted";
  feedback.setAttribute("aria-live", "polite");
  const toolbar = document.createElement("div");
  toolbar.className = "toolbar";
  toolbar.append(copy, feedback);
  panel.append(pre, toolbar);

  let current: Snippets = { curl: "", javascript: "", python: "" };
  let selected: keyof Snippets = "curl";
  const tabs = LANGUAGES.map((language) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.id = `${container.id}-${language.id}`;
    tab.dataset.language = language.id;
    tab.setAttribute("aria-controls", panel.id);
    tab.textContent = language.label;
    tab.addEventListener("click", () => select(language.id));
    tablist.append(tab);
    return tab;
  });
  const select = (language: keyof Snippets, focus = false) => {
    selected = language;
    for (const tab of tabs) {
      const on = tab.dataset.language === language;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
      if (on) panel.setAttribute("aria-labelledby", tab.id);
    }
    code.textContent = current[language];
    feedback.textContent = "";
  };
  tablist.addEventListener("keydown", (event) => {
    const index = LANGUAGES.findIndex((language) => language.id === selected);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = LANGUAGES[(index + step + LANGUAGES.length) % LANGUAGES.length]!;
    select(next.id, true);
  });
  copy.addEventListener("click", () => copyText(current[selected], feedback));
  container.replaceChildren(tablist, panel);
  select("curl");
  return (snippets) => {
    current = snippets;
    select(selected);
  };
}
