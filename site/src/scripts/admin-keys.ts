import { callApi, type Envelope } from "../lib/api";
import { copyText } from "../lib/clipboard";
import { byId, h } from "../lib/dom";
import { formatDate } from "../lib/format";
import { onKeysChanged, saveKey } from "../lib/key-store";
import { ApiError } from "../lib/problem";
import { statusRegion } from "../lib/status";

interface ApiKey {
  id: string;
  type: "master" | "project";
  name: string;
  prefix: string;
  organization: { slug: string } | null;
  project: { slug: string } | null;
  rateLimitPerHour: number;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  status: "active" | "expired" | "revoked";
}

interface AuditEvent {
  id: string;
  action: string;
  actorKeyId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

const createForm = byId<HTMLFormElement>("create-form");
const createStatus = statusRegion(byId("create-status"));
const keysStatus = statusRegion(byId("keys-status"));
const auditStatus = statusRegion(byId("audit-status"));
const dialog = byId<HTMLDialogElement>("revoke-dialog");
const createdKey = byId<HTMLInputElement>("created-key");
let keysCursor: string | null = null;
let auditCursor: string | null = null;
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

async function loadKeys(more = false) {
  const filters = new FormData(byId<HTMLFormElement>("list-filters"));
  keysStatus.busy("Loading keys…");
  try {
    const result = await callApi<Envelope<ApiKey[]>>("/api/admin/keys", {
      key: "master",
      query: {
        status: String(filters.get("status") ?? ""),
        type: String(filters.get("type") ?? ""),
        projectSlug: String(filters.get("projectSlug") ?? "").trim(),
        cursor: more ? keysCursor : null,
      },
    });
    const rows = result.body.data.map(keyRow);
    if (more) byId("keys").append(...rows);
    else byId("keys").replaceChildren(...rows);
    keysCursor = result.body.pagination?.nextCursor ?? null;
    byId("more-keys").hidden = !keysCursor;
    keysStatus.done(`${byId("keys").children.length} key(s) shown.`);
  } catch (error) {
    if (!more) byId("keys").replaceChildren();
    keysStatus.fail(error);
  }
}

function describeEvent(event: AuditEvent): string {
  const entries = Object.entries(event.metadata ?? {});
  return entries.map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`).join(", ");
}

async function loadAudit(more = false) {
  const filters = new FormData(byId<HTMLFormElement>("audit-filters"));
  auditStatus.busy("Loading the audit trail…");
  try {
    const result = await callApi<Envelope<AuditEvent[]>>("/api/admin/audit", {
      key: "master",
      query: { action: String(filters.get("action") ?? ""), cursor: more ? auditCursor : null },
    });
    const rows = result.body.data.map((event) =>
      h(
        "tr",
        {},
        h("td", {}, h("time", { datetime: event.createdAt }, formatDate(event.createdAt))),
        h("td", {}, h("code", {}, event.action)),
        h("td", {}, event.actorKeyId ? h("code", {}, event.actorKeyId.slice(0, 8)) : "—"),
        h("td", {}, event.targetType ? `${event.targetType} ${event.targetId?.slice(0, 8) ?? ""}` : "—"),
        h("td", {}, event.ip ?? "—"),
        h("td", {}, describeEvent(event)),
      ),
    );
    if (more) byId("audit").append(...rows);
    else byId("audit").replaceChildren(...rows);
    auditCursor = result.body.pagination?.nextCursor ?? null;
    byId("more-audit").hidden = !auditCursor;
    auditStatus.done(`${byId("audit").children.length} event(s) shown.`);
  } catch (error) {
    if (!more) byId("audit").replaceChildren();
    auditStatus.fail(error);
  }
}

createForm.addEventListener("change", toggleProjectFields);
createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!createForm.checkValidity()) {
    createForm.reportValidity();
    return;
  }
  const button = byId<HTMLButtonElement>("create-button");
  button.disabled = true;
  createStatus.busy("Creating the key…");
  try {
    const result = await callApi<Envelope<ApiKey & { apiKey: string }>>("/api/admin/keys", {
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
    await Promise.all([loadKeys(), loadAudit()]);
  } catch (error) {
    createStatus.fail(error);
  } finally {
    button.disabled = false;
  }
});

byId("copy-created").addEventListener("click", () => copyText(createdKey.value, byId("created-feedback"), createdKey));
byId("use-created").addEventListener("click", () => {
  const kind = saveKey(createdKey.value);
  byId("created-feedback").textContent = kind ? `Kept in this browser as the ${kind} key.` : "Nothing to keep.";
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
    await loadKeys();
    keysStatus.done(`Revoked ${key.name} (${key.prefix}).`);
    // The row and its button were redrawn: put focus where the outcome is announced.
    byId("keys-status").focus();
    await loadAudit();
  } catch (error) {
    keysStatus.fail(error instanceof ApiError ? error : new ApiError(0, { title: String(error) }));
  }
});

byId("list-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadKeys();
});
byId("audit-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadAudit();
});
byId("more-keys").addEventListener("click", () => loadKeys(true));
byId("more-audit").addEventListener("click", () => loadAudit(true));
onKeysChanged(() => {
  loadKeys();
  loadAudit();
});

toggleProjectFields();
loadKeys();
loadAudit();
