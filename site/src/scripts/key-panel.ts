import { byId } from "../lib/dom";
import { getKey, type KeyKind, keyStorageMessage, maskKey, onKeysChanged, removeKey, saveKey } from "../lib/key-store";

const kinds: KeyKind[] = ["project", "master"];

function render() {
  const stored = kinds.filter((kind) => getKey(kind));
  byId("key-summary").textContent = stored.length ? `API keys: ${stored.join(" + ")}` : "API keys: none";
  for (const kind of kinds) {
    const key = getKey(kind);
    byId(`key-${kind}-value`).textContent = key ? maskKey(key) : "none";
    byId(`key-${kind}-remove`).hidden = !key;
  }
}

for (const kind of kinds) {
  byId(`key-${kind}-remove`).addEventListener("click", () => {
    try {
      removeKey(kind);
      byId("key-feedback").textContent = `The ${kind} key was removed from this browser.`;
    } catch (error) {
      byId("key-feedback").textContent = keyStorageMessage(error);
    }
  });
}

byId<HTMLFormElement>("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>("key-input");
  let kind: KeyKind | null;
  try {
    kind = saveKey(input.value);
  } catch (error) {
    byId("key-feedback").textContent = keyStorageMessage(error);
    return;
  }
  byId("key-feedback").textContent = kind
    ? `Saved as the ${kind} key.`
    : "That is not a Banatie key: it starts with bnt_pk_ (project) or bnt_mk_ (master).";
  if (kind) input.value = "";
});

// Escape closes the menu and gives focus back to its button, as menus do.
const panel = byId<HTMLDetailsElement>("key-panel");
panel.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !panel.open) return;
  panel.open = false;
  panel.querySelector("summary")?.focus();
});

onKeysChanged(render);
render();
