import { callApi, loadInfo, missingKeyError } from "../lib/api";
import type { ApiBody, Schema } from "../lib/api-contract";
import { byId, fillSelect, h } from "../lib/dom";
import { formatMs } from "../lib/format";
import { getKey, type KeyKind, onKeysChanged } from "../lib/key-store";
import { formatUsdMicros, imagePriceText } from "../lib/money";
import { statusRegion } from "../lib/status";
import {
  budgetGauge,
  csvFileName,
  dailySeries,
  daysBetween,
  elapsedDays,
  monthName,
  monthRange,
  topShares,
  totalOf,
  type UsageDay,
  type UsagePage,
  type UsageShare,
  utcMonth,
} from "../lib/usage";
import { dayText, shortDay, usageChart } from "../lib/usage-chart";

const form = byId<HTMLFormElement>("usage-form");
const keyChoice = byId<HTMLSelectElement>("usage-key");
const month = byId<HTMLInputElement>("usage-month");
const status = statusRegion(byId("usage-status"));
const csvStatus = statusRegion(byId("csv-status"));
const csvLink = byId<HTMLAnchorElement>("csv-link");

const KEY_LABELS: Record<KeyKind, string> = {
  master: "Master key (every project)",
  project: "Project key (its own project)",
};

/** The stored keys to choose from; a master key first, since it sees everything. */
function fillKeyChoice() {
  const stored = (["master", "project"] as const).filter((kind) => getKey(kind));
  fillSelect(
    keyChoice,
    stored.map((kind) => ({ value: kind, label: KEY_LABELS[kind] })),
    stored[0],
  );
  keyChoice.disabled = stored.length === 0;
}

function selectedKey(): KeyKind | null {
  const kind = keyChoice.value;
  return kind === "master" || kind === "project" ? kind : null;
}

function getUsage(key: KeyKind, range: { from: string; to: string }, groupBy: "day" | "key" | "project") {
  return callApi<ApiBody<"getUsage", 200>>("/api/usage", { key, query: { ...range, groupBy } }).then(
    (result) => result.body.data,
  );
}

/** Names for the ids usage is grouped by: the caller's own, and for a master key every key it can list. */
async function loadNames(key: KeyKind, me: Schema<"Me">): Promise<Map<string, string>> {
  const names = new Map<string, string>([[me.keyId, `${me.name} (${me.prefix}…)`]]);
  if (me.organization && me.project) names.set(me.project.id, `${me.organization.slug}/${me.project.slug}`);
  if (key !== "master") return names;
  try {
    const { limits } = await loadInfo();
    const result = await callApi<ApiBody<"listApiKeys", 200>>("/api/admin/keys", {
      key,
      query: { limit: limits.maxPageSize },
    });
    for (const item of result.body.data) {
      names.set(item.id, `${item.name} (${item.prefix}…)`);
      if (item.organization && item.project) names.set(item.project.id, `${item.organization.slug}/${item.project.slug}`);
    }
  } catch {
    // Names are a convenience: without them the tables show ids.
  }
  return names;
}

function moneyCell(micros: number) {
  return h("td", { "data-usd-micros": String(micros) }, formatUsdMicros(micros));
}

function showSpend(me: Schema<"Me">, monthToDate: UsageDay[]) {
  const total = totalOf(monthToDate);
  const scope = me.type === "master" ? "every project" : `project ${me.organization?.slug}/${me.project?.slug}`;
  const figure = byId("month-spend");
  figure.dataset.usdMicros = String(total.usdMicros);
  figure.textContent = `${formatUsdMicros(total.usdMicros)} spent in ${monthName(utcMonth())} so far, ${total.images} ${total.images === 1 ? "image" : "images"} (${scope}).`;
  const budgets = [
    { scope: "key", label: `Monthly budget of this key (${me.name})`, budget: me.budgets.key },
    { scope: "project", label: "Monthly budget of its project", budget: me.budgets.project },
  ] as const;
  byId("budgets").replaceChildren(
    ...budgets.map(({ scope, label, budget }) => {
      if (!budget) {
        const none =
          scope === "project" && me.type === "master"
            ? "A master key belongs to no project: open this page with a project key to see its project's budget."
            : `No monthly budget set for this ${scope}: its spending is not capped. A master key can set one with PATCH /api/admin/${scope === "key" ? "keys" : "projects"}/{id}.`;
        return h(
          "div",
          { class: "budget", id: `budget-${scope}` },
          h("p", { class: "budget-label" }, label),
          h("p", { class: "muted" }, none),
        );
      }
      const gauge = budgetGauge(budget);
      const meter = h("meter", {
        id: `budget-${scope}-meter`,
        min: "0",
        max: String(gauge.limitMicros),
        low: String(gauge.warnAtMicros),
        high: String(gauge.warnAtMicros),
        optimum: "0",
        value: String(gauge.spentMicros),
        "aria-labelledby": `budget-${scope}-label`,
        "aria-describedby": `budget-${scope}-text`,
      });
      return h(
        "div",
        { class: "budget", id: `budget-${scope}` },
        h("p", { class: "budget-label", id: `budget-${scope}-label` }, label),
        meter,
        h("p", { id: `budget-${scope}-text` }, gauge.text),
      );
    }),
  );
}

function showDaily(series: UsageDay[], range: { from: string; to: string }, monthValue: string) {
  const total = totalOf(series);
  const name = monthName(monthValue);
  const figure = byId("usage-figure");
  const empty = byId("usage-empty");
  figure.hidden = total.images === 0 && total.usdMicros === 0;
  empty.hidden = !figure.hidden;
  empty.textContent = `No images and no cost in ${name}.`;
  const busiest = series.reduce<UsageDay | undefined>(
    (best, day) => (day.usdMicros > (best?.usdMicros ?? 0) ? day : best),
    undefined,
  );
  const description = `${total.images} images and ${formatUsdMicros(total.usdMicros)} in ${name}${
    busiest ? `; the costliest day was ${dayText(busiest)}` : ""
  }. The table below the chart lists every day.`;
  byId("usage-chart").replaceChildren(
    usageChart(series, daysBetween(range.from, range.to), {
      title: `Images and cost per day, ${name}`,
      description,
      idPrefix: "usage-chart",
    }),
  );
  byId("daily-rows").replaceChildren(
    ...series.map((day) =>
      h(
        "tr",
        { "data-day": day.day },
        h("th", { scope: "row" }, shortDay(day.day)),
        h("td", {}, String(day.images)),
        h("td", {}, String(day.requests)),
        moneyCell(day.usdMicros),
      ),
    ),
  );
}

function showTop(tbody: HTMLElement, shares: UsageShare[], names: Map<string, string>, none: string) {
  if (!shares.length) {
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: "4", class: "muted" }, none)));
    return;
  }
  tbody.replaceChildren(
    ...shares.map((share) =>
      h(
        "tr",
        { "data-id": share.id },
        h("th", { scope: "row" }, names.get(share.id) ?? h("code", {}, share.id)),
        h("td", {}, String(share.images)),
        h("td", {}, String(share.requests)),
        moneyCell(share.usdMicros),
      ),
    ),
  );
}

let loads = 0;

async function load() {
  const load = ++loads;
  const key = selectedKey();
  if (!key) {
    status.fail(missingKeyError("project"));
    return;
  }
  if (!month.value) month.value = utcMonth();
  const range = monthRange(month.value);
  const thisMonth = monthRange(utcMonth());
  status.busy(`Loading the usage of ${monthName(month.value)}…`);
  const started = performance.now();
  try {
    const meCall = callApi<ApiBody<"getMe", 200>>("/api/me", { key }).then((result) => result.body.data);
    const [me, days, keys, projects] = await Promise.all([
      meCall,
      getUsage(key, range, "day"),
      getUsage(key, range, "key"),
      getUsage(key, range, "project"),
    ]);
    const monthToDate: UsagePage = range.from === thisMonth.from ? days : await getUsage(key, thisMonth, "day");
    const names = await loadNames(key, me);
    if (load !== loads) return;
    showSpend(me, dailySeries(monthToDate, thisMonth.from, thisMonth.to));
    showDaily(elapsedDays(dailySeries(days, range.from, range.to)), range, month.value);
    showTop(byId("top-keys"), topShares(keys, "api_key_id"), names, `No key spent anything in ${monthName(month.value)}.`);
    showTop(
      byId("top-projects"),
      topShares(projects, "project_id"),
      names,
      `No project spent anything in ${monthName(month.value)}.`,
    );
    status.done(`Usage of ${monthName(month.value)} loaded in ${formatMs(performance.now() - started)}.`);
  } catch (error) {
    if (load === loads) status.fail(error);
  }
}

let csvUrl: string | undefined;

/** Fetches the CSV with the key in its header and saves it from a blob: URL, so no link ever holds the key. */
async function downloadCsv() {
  const key = selectedKey();
  if (!key) return csvStatus.fail(missingKeyError("project"));
  if (!month.value) month.value = utcMonth();
  const range = monthRange(month.value);
  csvStatus.busy("Preparing the CSV…");
  try {
    const result = await callApi<string>("/api/usage/export.csv", {
      key,
      query: { ...range, groupBy: byId<HTMLSelectElement>("csv-group").value },
      accept: "text/csv",
    });
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(new Blob([result.body], { type: "text/csv" }));
    const fileName = csvFileName(result.headers.get("Content-Disposition"), range.from, range.to);
    csvLink.href = csvUrl;
    csvLink.download = fileName;
    csvLink.textContent = `Save ${fileName} again`;
    csvLink.hidden = false;
    csvLink.click();
    const rows = result.body.split("\r\n").filter(Boolean).length - 1;
    csvStatus.done(`Downloaded ${fileName}: ${rows} ${rows === 1 ? "row" : "rows"}.`);
  } catch (error) {
    csvStatus.fail(error);
  }
}

async function showPricing() {
  try {
    byId("pricing-fact").textContent = imagePriceText((await loadInfo()).pricing);
  } catch {
    // The price line is a footnote; the usage itself does not depend on it.
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
keyChoice.addEventListener("change", load);
month.addEventListener("change", load);
byId("csv-download").addEventListener("click", downloadCsv);
// A key added or removed in the "API keys" menu applies at once.
onKeysChanged(() => {
  fillKeyChoice();
  load();
});
month.value = utcMonth();
month.max = utcMonth();
fillKeyChoice();
showPricing();
load();
