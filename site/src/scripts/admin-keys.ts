import { callApi } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { copyText } from "../lib/clipboard";
import { byId, h } from "../lib/dom";
import { formatDate } from "../lib/format";
import { keyStorageMessage, onKeysChanged, saveKey } from "../lib/key-store";
import { type Page, pagedList } from "../lib/paged-list";
import { ApiError } from "../lib/problem";
import { statusRegion } from "../lib/status";

type ApiKey = Schema<"ApiKey">;
type AuditEvent = Schema<"AuditEvent">;

const createForm = byId<HTMLFormElement>("create-form");
const createStatus = statusRegion(byId("create-status"));
const keysStatus = statusRegion(byId("keys-status"));
const auditStatus = statusRegion(byId("audit-status"));
const dialog = byId<HTMLDialogElement>("revoke-dialog");
const createdKey = byId<HTMLInputElement>("created-key");
let revoking: ApiKey | undefined;

function selectedType(): "project" | "master" {
  return new FormData(createForm).get("type") === "master" ? "master" : "project";
}

function toggleProjectFields() {
  const project = selectedType() === "project";
  for (const field of createForm.querySelectorAll<HTMLElement>(".project-only")) {
    field.hidden = !project;
    for (const input of field.querySelectorAll("input")) input.disabled = !project;
  }
}

/** The create request, with empty optional fields left out so the API's defaults apply. */
function createBody(): Record<string, unknown> {
  const data = new FormData(createForm);
  const text = (name: string) => String(data.get(name) ?? "").trim();
  const body: Record<string, unknown> = { type: selectedType(), name: text("name") };
  if (body.type === "project") {
    body.projectSlug = text("projectSlug");
    if (text("organizationSlug")) body.organizationSlug = text("organizationSlug");
  }
  if (text("expiresInDays")) body.expiresInDays = Number(text("expiresInDays"));
  if (text("rateLimitPerHour")) body.rateLimitPerHour = Number(text("rateLimitPerHour"));
  return body;
}

function keyRow(key: ApiKey): HTMLTableRowElement {
  const scope = key.project ? `${key.organization?.slug ?? "?"}/${key.project.slug}` : "all projects";
  const actions = h("td", {});
  if (key.status === "active") {
    const revoke = h(
      "button",
      { type: "button", class: "secondary small", "aria-label": `Revoke ${key.name} (${key.prefix})` },
      "Revoke",
    );
    revoke.addEventListener("click", () => {
      revoking = key;
      byId("revoke-which").textContent = `${key.name} (${key.prefix}…, ${key.type} key, ${scope})`;
      byId<HTMLInputElement>("revoke-reason").value = "";
      dialog.showModal();
    });
    actions.append(revoke);
  }
  return h(
    "tr",
    { "data-key-id": key.id },
    h("td", {}, key.name),
    h("td", {}, key.type),
    h("td", {}, h("code", {}, key.prefix)),
    h("td", {}, scope),
    h("td", {}, h("span", { class: `badge ${key.status}` }, key.status)),
    h("td", {}, formatDate(key.expiresAt)),
    h("td", {}, formatDate(key.lastUsedAt)),
    h("td", {}, formatDate(key.createdAt)),
    actions,
  );
}

interface KeyFilters {
  status: string;
  type: string;
  projectSlug: string;
}

function keyFilters(): KeyFilters {
  const filters = new FormData(byId<HTMLFormElement>("list-filters"));
  return {
    status: String(filters.get("status") ?? ""),
    type: String(filters.get("type") ?? ""),
    projectSlug: String(filters.get("projectSlug") ?? "").trim(),
  };
}

/** A list page from a list endpoint's envelope. */
async function fetchPage<Body extends ApiBody<"listApiKeys" | "listAuditEvents", 200>>(
  path: string,
  query: Record<string, string>,
  cursor: string | null,
): Promise<Page<Body["data"][number]>> {
  const result = await callApi<Body>(path, { key: "master", query: { ...query, cursor } });
  return { items: result.body.data, nextCursor: result.body.pagination.nextCursor, ms: result.ms };
}

const keys = pagedList<KeyFilters, ApiKey>({
  fetchPage: (filters, cursor) => {
    keysStatus.busy("Loading keys…");
    return fetchPage<ApiBody<"listApiKeys", 200>>("/api/admin/keys", { ...filters }, cursor);
  },
  show({ items, index }) {
    const rows = items.map(keyRow);
    if (index > 0) byId("keys").append(...rows);
    else byId("keys").replaceChildren(...rows);
    keysStatus.done(`${byId("keys").children.length} key(s) shown.`);
  },
  fail(error, index) {
    if (index === 0) byId("keys").replaceChildren();
    keysStatus.fail(error);
  },
  more: { button: byId<HTMLButtonElement>("more-keys"), focusAfterLast: byId("keys-status") },
});

function describeEvent(event: AuditEvent): string {
  const entries = Object.entries(event.metadata ?? {});
  return entries.map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`).join(", ");
}

function auditRow(event: AuditEvent): HTMLTableRowElement {
  return h(
    "tr",
    {},
    h("td", {}, h("time", { datetime: event.createdAt }, formatDate(event.createdAt))),
    h("td", {}, h("code", {}, event.action)),
    h("td", {}, event.actorKeyId ? h("code", {}, event.actorKeyId.slice(0, 8)) : "—"),
    h("td", {}, event.targetType ? `${event.targetType} ${event.targetId?.slice(0, 8) ?? ""}` : "—"),
    h("td", {}, event.ip ?? "—"),
    h("td", {}, describeEvent(event)),
  );
}

const audit = pagedList<{ action: string }, AuditEvent>({
  fetchPage: (filters, cursor) => {
    auditStatus.busy("Loading the audit trail…");
    return fetchPage<ApiBody<"listAuditEvents", 200>>("/api/admin/audit", filters, cursor);
  },
  show({ items, index }) {
    const rows = items.map(auditRow);
    if (index > 0) byId("audit").append(...rows);
    else byId("audit").replaceChildren(...rows);
    auditStatus.done(`${byId("audit").children.length} event(s) shown.`);
  },
  fail(error, index) {
    if (index === 0) byId("audit").replaceChildren();
    auditStatus.fail(error);
  },
  more: { button: byId<HTMLButtonElement>("more-audit"), focusAfterLast: byId("audit-status") },
});

function auditFilters(): { action: string } {
  return { action: String(new FormData(byId<HTMLFormElement>("audit-filters")).get("action") ?? "") };
}

function loadAll() {
  return Promise.all([keys.start(keyFilters()), audit.start(auditFilters())]);
}

createForm.addEventListener("change", toggleProjectFields);
const createButton = byId<HTMLButtonElement>("create-button");
let creating = false;
createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  // aria-disabled rather than disabled while busy, so keyboard focus stays on the button.
  if (creating) return;
  if (!createForm.checkValidity()) {
    createForm.reportValidity();
    return;
  }
  creating = true;
  createButton.setAttribute("aria-disabled", "true");
  createStatus.busy("Creating the key…");
  try {
    const result = await callApi<ApiBody<"createApiKey", 201>>("/api/admin/keys", {
      method: "POST",
      key: "master",
      json: createBody(),
    });
    createdKey.value = result.body.data.apiKey;
    byId("created").hidden = false;
    byId("created-feedback").textContent = "";
    createStatus.done(`Created ${result.body.data.type} key “${result.body.data.name}”.`);
    createdKey.focus();
    createdKey.select();
    await Promise.all([keys.reload(), audit.reload()]);
  } catch (error) {
    createStatus.fail(error);
  } finally {
    creating = false;
    createButton.removeAttribute("aria-disabled");
  }
});

byId("copy-created").addEventListener("click", () => copyText(createdKey.value, byId("created-feedback"), createdKey));
byId("use-created").addEventListener("click", () => {
  try {
    const kind = saveKey(createdKey.value);
    byId("created-feedback").textContent = kind ? `Kept in this browser as the ${kind} key.` : "Nothing to keep.";
  } catch (error) {
    byId("created-feedback").textContent = keyStorageMessage(error);
  }
});

dialog.addEventListener("close", async () => {
  const key = revoking;
  revoking = undefined;
  if (dialog.returnValue !== "revoke" || !key) return;
  const reason = byId<HTMLInputElement>("revoke-reason").value.trim();
  keysStatus.busy(`Revoking ${key.name}…`);
  try {
    await callApi(`/api/admin/keys/${encodeURIComponent(key.id)}`, {
      method: "DELETE",
      key: "master",
      json: reason ? { reason } : {},
    });
  } catch (error) {
    keysStatus.fail(error instanceof ApiError ? error : new ApiError(0, { title: String(error) }));
    return;
  }
  const reloaded = await keys.reload();
  // A failed reload must stay visible: say both that the key is revoked and why the list is stale.
  if (reloaded.state === "failed") keysStatus.fail(revokedButListFailed(key, reloaded.error));
  else keysStatus.done(`Revoked ${key.name} (${key.prefix}).`);
  // The row and its button were redrawn: put focus where the outcome is announced.
  byId("keys-status").focus();
  await audit.reload();
});

function revokedButListFailed(key: ApiKey, error: unknown): ApiError {
  const cause = error instanceof ApiError ? error : new ApiError(0, { title: String(error) });
  const reason = [cause.problem.title, cause.problem.detail].filter(Boolean).join(": ");
  return new ApiError(
    cause.status,
    { ...cause.problem, title: `Revoked ${key.name} (${key.prefix}), but the list could not be reloaded`, detail: reason },
    cause.body,
    cause.headers,
  );
}

byId("list-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  void keys.start(keyFilters());
});
byId("audit-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  void audit.start(auditFilters());
});
onKeysChanged(() => void loadAll());

toggleProjectFields();
void loadAll();
