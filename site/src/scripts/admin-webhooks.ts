import { callApi } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { copyText } from "../lib/clipboard";
import { byId, h } from "../lib/dom";
import { formatDate, formatMs } from "../lib/format";
import { onKeysChanged } from "../lib/key-store";
import { statusRegion } from "../lib/status";
import { deliveryResponseText, secretStateText } from "../lib/webhooks";

type Settings = Schema<"WebhookSettings">;
type Delivery = Schema<"WebhookDelivery">;

const SETTINGS_PATH = "/api/v1/webhooks";
const PAGE_SIZE = 10;

const form = byId<HTMLFormElement>("settings-form");
const url = byId<HTMLInputElement>("webhook-url");
const enabled = byId<HTMLInputElement>("webhook-enabled");
const eventBoxes = [...form.querySelectorAll<HTMLInputElement>('input[name="events"]')];
const settingsStatus = statusRegion(byId("settings-status"));
const secretStatus = statusRegion(byId("secret-status"));
const deliveriesStatus = statusRegion(byId("deliveries-status"));
const secretField = byId<HTMLInputElement>("webhook-secret");
const rotate = byId<HTMLButtonElement>("rotate-secret");
const previous = byId<HTMLButtonElement>("previous-deliveries");
const next = byId<HTMLButtonElement>("next-deliveries");
let offset = 0;

/** Fills the form and the secret's state from the project's settings. */
function showSettings(settings: Settings) {
  url.value = settings.url ?? "";
  for (const box of eventBoxes) box.checked = settings.events.includes(box.value as Settings["events"][number]);
  // Before the first save the API reports an endpoint that is not enabled; saving one enables it unless unticked.
  enabled.checked = settings.url === null || settings.enabled;
  const reason = byId("disabled-reason");
  reason.hidden = !settings.disabledReason;
  reason.textContent = settings.disabledReason
    ? `Deliveries stopped: ${settings.disabledReason}. Saving enabled sends again.`
    : "";
  byId("secret-state").textContent = secretStateText(settings.secret);
}

async function loadSettings() {
  settingsStatus.busy("Reading the project's webhook settings…");
  try {
    const result = await callApi<ApiBody<"getWebhookSettings", 200>>(SETTINGS_PATH, { key: "project" });
    showSettings(result.body.data);
    settingsStatus.done(result.body.data.url ? "Settings loaded." : "No endpoint set yet.");
  } catch (error) {
    byId("secret-state").textContent = "";
    settingsStatus.fail(error);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  settingsStatus.busy("Saving…");
  try {
    const result = await callApi<ApiBody<"setWebhookSettings", 200>>(SETTINGS_PATH, {
      method: "PUT",
      key: "project",
      json: {
        url: url.value.trim(),
        events: eventBoxes.filter((box) => box.checked).map((box) => box.value),
        enabled: enabled.checked,
      },
    });
    showSettings(result.body.data);
    settingsStatus.done("Saved.");
  } catch (error) {
    settingsStatus.fail(error);
  }
});

rotate.addEventListener("click", async () => {
  rotate.setAttribute("aria-disabled", "true");
  secretStatus.busy("Rotating the secret…");
  try {
    const result = await callApi<ApiBody<"rotateWebhookSecret", 201>>(`${SETTINGS_PATH}/secret`, {
      method: "POST",
      key: "project",
    });
    const secret = result.body.data;
    secretField.value = secret.secret;
    byId("secret-copy-feedback").textContent = "";
    byId("secret-result").hidden = false;
    byId("secret-state").textContent = secretStateText({
      exists: true,
      createdAt: secret.createdAt,
      previousExpiresAt: secret.previousExpiresAt,
    });
    secretStatus.done("A new secret signs every delivery from now on.");
    secretField.focus();
    secretField.select();
  } catch (error) {
    secretStatus.fail(error);
  } finally {
    rotate.removeAttribute("aria-disabled");
  }
});

byId("copy-secret").addEventListener("click", () => copyText(secretField.value, byId("secret-copy-feedback"), secretField));

/** One delivery as a table row, with a Redeliver button that replaces the row with the new attempt's outcome. */
function deliveryRow(delivery: Delivery): HTMLTableRowElement {
  const redeliver = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      "aria-label": `Redeliver ${delivery.event} of ${formatDate(delivery.createdAt)}`,
    },
    "Redeliver",
  );
  const row = h(
    "tr",
    { "data-id": delivery.id, "data-state": delivery.state },
    h("td", {}, h("code", {}, delivery.event)),
    h("td", {}, h("span", { class: `badge ${delivery.state}` }, delivery.state)),
    h("td", { class: "attempts" }, String(delivery.attempts)),
    h("td", { class: "response" }, deliveryResponseText(delivery)),
    h("td", { class: "latency" }, delivery.latencyMs === null ? "–" : formatMs(delivery.latencyMs)),
    h("td", {}, formatDate(delivery.lastAttemptAt ?? delivery.createdAt)),
    h("td", {}, redeliver),
  );
  redeliver.addEventListener("click", async () => {
    redeliver.setAttribute("aria-disabled", "true");
    deliveriesStatus.busy("Sending it again…");
    try {
      const result = await callApi<ApiBody<"redeliverWebhook", 200>>(
        `${SETTINGS_PATH}/deliveries/${encodeURIComponent(delivery.id)}/redeliver`,
        { method: "POST", key: "project" },
      );
      row.replaceWith(deliveryRow(result.body.data));
      deliveriesStatus.done(`Redelivered: ${deliveryResponseText(result.body.data)}.`);
    } catch (error) {
      redeliver.removeAttribute("aria-disabled");
      deliveriesStatus.fail(error);
    }
  });
  return row;
}

async function loadDeliveries(from: number) {
  deliveriesStatus.busy("Loading deliveries…");
  try {
    const result = await callApi<ApiBody<"listWebhookDeliveries", 200>>(`${SETTINGS_PATH}/deliveries`, {
      key: "project",
      query: { limit: PAGE_SIZE, offset: from },
    });
    const { data, pagination } = result.body;
    offset = from;
    byId("deliveries").replaceChildren(...data.map(deliveryRow));
    byId("deliveries-empty").hidden = pagination.total > 0;
    // An empty table and pager say nothing the empty state does not.
    byId("deliveries-table").hidden = pagination.total === 0;
    byId("deliveries-pager").hidden = pagination.total === 0;
    previous.disabled = offset === 0;
    next.disabled = !pagination.hasMore;
    byId("deliveries-page").textContent = pagination.total ? `${offset + 1}–${offset + data.length} of ${pagination.total}` : "";
    deliveriesStatus.done(`Up to date as of ${new Date().toLocaleTimeString()}.`);
  } catch (error) {
    deliveriesStatus.fail(error);
  }
}

previous.addEventListener("click", () => loadDeliveries(Math.max(0, offset - PAGE_SIZE)));
next.addEventListener("click", () => loadDeliveries(offset + PAGE_SIZE));
byId("refresh-deliveries").addEventListener("click", () => loadDeliveries(offset));

function load() {
  void loadSettings();
  void loadDeliveries(0);
}

// A key added or removed in the "API keys" menu applies at once.
onKeysChanged(load);
load();
