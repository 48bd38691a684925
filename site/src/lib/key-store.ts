/**
 * The visitor's API keys, kept in this browser's localStorage only. A master key (admin pages)
 * and a project key (workbenches) live side by side; the prefix says which is which.
 */
export type KeyKind = "master" | "project";

const STORAGE_KEYS: Record<KeyKind, string> = { master: "banatie.masterKey", project: "banatie.projectKey" };
const CHANGE_EVENT = "banatie:keys-changed";

/** The kind of a key by its prefix, or null when it is not a Banatie key. */
export function keyKind(key: string): KeyKind | null {
  if (/^bnt_mk_\w+$/.test(key)) return "master";
  if (/^bnt_pk_\w+$/.test(key)) return "project";
  return null;
}

export function getKey(kind: KeyKind): string | null {
  try {
    return localStorage.getItem(STORAGE_KEYS[kind]);
  } catch {
    // Storage disabled (private mode in some browsers): behave as if no key is kept.
    return null;
  }
}

/** Thrown when the browser refuses to change localStorage (disabled, full, or blocked by policy). */
export class KeyStorageError extends Error {
  constructor(action: string, cause: unknown) {
    super(
      `This browser did not let the page ${action} (${cause instanceof Error ? cause.message : String(cause)}). Check that site data is allowed for this site.`,
    );
    this.name = "KeyStorageError";
  }
}

/**
 * Stores a key in the slot its prefix names; returns that kind, or null for a non-key.
 * Throws a KeyStorageError, with a message to show, when the browser refuses to store it.
 */
export function saveKey(key: string): KeyKind | null {
  const trimmed = key.trim();
  const kind = keyKind(trimmed);
  if (!kind) return null;
  try {
    localStorage.setItem(STORAGE_KEYS[kind], trimmed);
  } catch (error) {
    throw new KeyStorageError(`keep the ${kind} key`, error);
  }
  window.dispatchEvent(new CustomEvent(CHANGE_EVENT));
  return kind;
}

/** Forgets a key; throws a KeyStorageError, with a message to show, when the browser refuses. */
export function removeKey(kind: KeyKind): void {
  try {
    localStorage.removeItem(STORAGE_KEYS[kind]);
  } catch (error) {
    throw new KeyStorageError(`remove the ${kind} key`, error);
  }
  window.dispatchEvent(new CustomEvent(CHANGE_EVENT));
}

/** What to tell the visitor when saving or removing a key failed. */
export function keyStorageMessage(error: unknown): string {
  return error instanceof KeyStorageError ? error.message : `The key could not be changed: ${String(error)}`;
}

/** The first characters of a key, as the API's `prefix`: enough to recognise it, useless to use. */
export function maskKey(key: string): string {
  return `${key.slice(0, 13)}…`;
}

/** Calls `listener` whenever a key changes, in this tab or another one. */
export function onKeysChanged(listener: () => void): void {
  window.addEventListener(CHANGE_EVENT, listener);
  window.addEventListener("storage", (event) => {
    if (event.key === null || Object.values(STORAGE_KEYS).includes(event.key)) listener();
  });
}
