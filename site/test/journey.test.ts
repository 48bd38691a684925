import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { missingPython, skipIfMissing } from "../../dev/test/support/requirements.ts";
import { type ReceivedWebhook, startWebhookReceiver } from "../../dev/webhook-receiver/server.ts";
import { type OpenApiDocument, openApiContract } from "../../worker/test/support/openapi-contract.ts";
import type { ApiBody } from "../src/lib/api-contract.ts";
import { cancelOutcomeText, nextPollDelay } from "../src/lib/async-generation.ts";
import { flowPageHref, imagePageHref } from "../src/lib/image-pages.ts";
import { budgetProblemText, formatUsdMicros, usdToMicros } from "../src/lib/money.ts";
import { monthRange, utcMonth } from "../src/lib/usage.ts";
import { launchChromium, screenshots, unlabelledControls, VIEWPORTS, watchPage } from "./support/browser.ts";
import { JOURNEY_PROMPT, scriptedEnhancement, uploadFixture } from "./support/fixtures.ts";
import { imageLoaded, settled } from "./support/page-state.ts";

const run = promisify(execFile);
const site = inject("siteUrl");

let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: Awaited<ReturnType<typeof watchPage>>;
/** Carried from step to step, as a visitor carries them. */
const journey = {
  masterKey: "",
  projectKey: "",
  /** When the quota window of the journey's first generation ends. */
  quotaResetAt: "",
  generatedUrl: "",
  generatedImageId: "",
  uploadedUrl: "",
  pythonSnippet: "",
  snippetsRun: 0,
  /** Requests the workbench's references and edits spent: an upload and two pairs of generations. */
  referenceRequests: 0,
  /** Uploads made as references, which the gallery lists with the other uploads. */
  referenceUploads: 0,
  /** Requests the asynchronous workbench and the webhooks page spent (a generation canceled before it started is refunded). */
  asyncRequests: 0,
};

/** Opens a page by the path the site links to: it must answer 200 itself, not through a redirect. */
async function visit(pathname: string) {
  const response = await page.goto(`${site}${pathname}`, { waitUntil: "load" });
  expect(response?.status(), pathname).toBe(200);
  expect(response?.request().redirectedFrom(), `${pathname} redirects`).toBeNull();
}

/** Screenshots at both widths, and the checks every page must pass at them. */
async function checkPage(name: string) {
  const { phoneOverflow } = await screenshots(page, name);
  expect(phoneOverflow, `${name} scrolls sideways on a phone`).toBeLessThanOrEqual(0);
  expect(await unlabelledControls(page), `${name} has controls without a label`).toEqual([]);
}

/** The API's own answer, read outside the browser with a key, to hold the page's figures to. */
async function api<T>(pathname: string, key: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const response = await fetch(`${site}${pathname}`, {
    method: init.method ?? "GET",
    headers: { "X-API-Key": key, ...(init.json === undefined ? {} : { "Content-Type": "application/json" }) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await response.text();
  expect(response.ok, `${pathname}: ${text}`).toBe(true);
  return (response.headers.get("Content-Type")?.includes("json") ? JSON.parse(text) : text) as T;
}

/**
 * Requests the page should say are left of the hourly quota: 100 less the journey's tally of what
 * it spent, while the hour its first generation fell in lasts. The quota window starts again on
 * the hour, so once that hour has turned the tally no longer applies, and the API's count is the
 * one to show.
 */
async function quotaLeft(spent: number): Promise<number> {
  const { quota } = (await api<{ data: { quota: { remaining: number; resetAt: string } } }>("/api/me", journey.projectKey)).data;
  return quota.resetAt === journey.quotaResetAt ? 100 - spent : quota.remaining;
}

/** Runs a generated snippet as a visitor would paste it, with the key in the environment. */
async function runSnippet(command: string, args: string[], key: string): Promise<string> {
  const { stdout } = await run(command, args, { env: { ...process.env, BANATIE_API_KEY: key }, timeout: 30_000 });
  return stdout.trim();
}

describe("a new user's journey through the site", () => {
  beforeAll(async () => {
    browser = await launchChromium();
    context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: site });
    page = await context.newPage();
    // Every API answer the page gets is checked against the document the platform serves.
    const document = (await (await fetch(`${site}/api/openapi.json`)).json()) as OpenApiDocument;
    watch = await watchPage(page, { origin: new URL(site).origin, ...(await openApiContract(document)) });
  });

  afterEach(async () => {
    // Any console error, page error, failed request, unexpected HTTP error or response outside
    // the OpenAPI document fails the step it happened in.
    await watch.settled();
    const problems = [...watch.problems];
    watch.problems.length = 0;
    watch.clearExpected();
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    console.log(`${watch?.checked} API responses checked against the OpenAPI document`);
    await browser?.close();
  });

  it("shows the landing page and the guides, keyboard first", async () => {
    await visit("/");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    expect(await page.locator("h1").innerText()).toContain("Professional images");
    expect(await page.locator('main a[href="/demo/tti"]').count()).toBeGreaterThan(0);
    expect(await page.locator('main a[href="/docs/reference"]').count()).toBeGreaterThan(0);
    await checkPage("landing");
    const guides = [
      "quickstart",
      "authentication",
      "rate-limits",
      "errors",
      "images",
      "examples",
      "costs",
      "v1",
      "async",
      "webhooks",
    ];
    const operatorGuides = ["transformations", "configuration", "deploy", "testing"];
    for (const guide of [...guides, ...operatorGuides]) {
      await visit(`/docs/${guide}`);
      expect(await page.locator("h1").count()).toBe(1);
      await checkPage(`docs-${guide}`);
    }
    await visit("/docs/errors");
    expect(await page.locator("#revoked-api-key").innerText()).toContain("401");
    // The configuration page is built from the settings schema: secrets and defaults included.
    await visit("/docs/configuration");
    expect(await page.locator("#setting-url-signing-secret").innerText()).toContain("(secret)");
    expect(await page.locator("#setting-transform-signatures").innerText()).toContain("required");
  });

  it("renders the API reference from the live OpenAPI document", async () => {
    await visit("/docs/reference");
    const status = await settled(page, "#reference-status");
    expect(status).toMatchObject({ state: "done" });
    for (const tag of ["System", "Keys", "Generation", "Images"])
      expect(await page.locator(`#reference h3:text-is("${tag}")`).count()).toBe(1);
    const operation = page.locator("#textToImage");
    expect(await operation.innerText()).toContain("/api/text-to-image");
    // "Try it" against a public endpoint.
    const info = page.locator("#getInfo");
    await info.locator("summary", { hasText: "Try it" }).click();
    await info.getByRole("button", { name: "Send request" }).click();
    await info.locator("pre", { hasText: '"templates"' }).waitFor();
    // /health sits outside /api/ and is still this origin's API.
    const health = page.locator("#getHealth");
    await health.locator("summary", { hasText: "Try it" }).click();
    await health.getByRole("button", { name: "Send request" }).click();
    await health.locator("pre", { hasText: '"environment"' }).waitFor();
    await checkPage("docs-reference");
  });

  it("bootstraps the first master key with the installation's token, shown once with a copy button", async () => {
    await visit("/admin/master");
    await page.locator("#bootstrap-state", { hasText: "No master key exists yet" }).waitFor();
    // Outside development the page asks for the deployment's BOOTSTRAP_TOKEN.
    await page.getByLabel("Bootstrap token").fill(inject("bootstrapToken"));
    const bootstrap = page.getByRole("button", { name: "Create the first master key" });
    expect(await settled(page, "#bootstrap-status", () => bootstrap.click())).toMatchObject({ state: "done" });
    journey.masterKey = await page.locator("#master-key").inputValue();
    expect(journey.masterKey).toMatch(/^bnt_mk_\w+$/);
    expect(await page.getByRole("alert").innerText()).toContain("Shown once");
    await page.getByRole("button", { name: "Copy" }).click();
    await page.locator("#copy-feedback", { hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(journey.masterKey);
    await page.getByRole("button", { name: "Keep it in this browser" }).click();
    await page.locator("#key-summary", { hasText: "master" }).waitFor();
    await checkPage("admin-master");

    // Afterwards the page says so before anyone tries, and offers no button that cannot work.
    await visit("/admin/master");
    await page.locator("#bootstrap-state", { hasText: "already has a master key" }).waitFor();
    expect(await page.getByRole("button", { name: "Create the first master key" }).isDisabled()).toBe(true);
  });

  it("creates a project key and keeps it for the workbenches", async () => {
    await visit("/admin/apikeys");
    expect(await settled(page, "#keys-status")).toMatchObject({ state: "done" });
    expect(await page.locator("#keys tr").count()).toBe(1);
    await page.getByLabel("Name").fill("Journey app");
    await page.getByLabel("Project", { exact: true }).fill("journey");
    const createKey = page.getByRole("button", { name: "Create key" });
    expect(await settled(page, "#create-status", () => createKey.click())).toMatchObject({ state: "done" });
    journey.projectKey = await page.locator("#created-key").inputValue();
    expect(journey.projectKey).toMatch(/^bnt_pk_\w+$/);
    await page.getByRole("button", { name: "Use it in this browser" }).click();
    await page.locator("#key-summary", { hasText: "project + master" }).waitFor();
    const row = page.locator("#keys tr", { hasText: "Journey app" });
    await row.waitFor();
    expect(await row.innerText()).toContain("active");
    expect(await row.innerText()).toContain("default/journey");
    await page.locator("#audit tr", { hasText: "key.created" }).waitFor();
    await checkPage("admin-apikeys");

    // A validation problem, sent from the reference's "try it", reads as a list of fields.
    watch.expectFailure("/api/admin/keys", 400);
    await visit("/docs/reference");
    const create = page.locator("#createApiKey");
    await create.locator("summary", { hasText: "Try it" }).click();
    await create.getByLabel("JSON body").fill(JSON.stringify({ type: "project", name: "" }));
    await create.getByRole("button", { name: "Send request" }).click();
    const problem = create.locator(".problem");
    await problem.waitFor();
    expect(await problem.innerText()).toMatch(/Invalid request \(400\)[\s\S]*name: .+[\s\S]*VALIDATION_ERROR/);
  });

  it("generates with and without enhancement, side by side, with working code", async () => {
    await visit("/demo/tti");
    await page.locator("#template option").nth(6).waitFor({ state: "attached" });
    expect(await page.locator("#template option").count()).toBe(7);
    await page.getByLabel("Prompt", { exact: true }).fill(JOURNEY_PROMPT);
    await page.getByLabel("Template", { exact: true }).selectOption("illustration");
    await page.getByLabel("Aspect ratio").selectOption("16:9");
    await page.getByLabel("Output format").selectOption("webp");
    // Before generating, the page shows the quote the API gives for exactly these two bodies, and it spends nothing.
    const bodies = {
      withoutEnhancement: { prompt: JOURNEY_PROMPT, aspectRatio: "16:9", outputFormat: "webp", autoEnhance: false },
      withEnhancement: {
        prompt: JOURNEY_PROMPT,
        aspectRatio: "16:9",
        outputFormat: "webp",
        autoEnhance: true,
        enhancementOptions: { template: "illustration" },
      },
    };
    type Quote = ApiBody<"createQuote", 200>["data"];
    const quotePlain = (
      await api<{ data: Quote }>("/api/quotes", journey.projectKey, { method: "POST", json: bodies.withoutEnhancement })
    ).data;
    const quoteEnhanced = (
      await api<{ data: Quote }>("/api/quotes", journey.projectKey, { method: "POST", json: bodies.withEnhancement })
    ).data;
    // The browser stack generates with the Gemini-protocol fake, so images are priced.
    expect(quotePlain.usdMicros).toBeGreaterThan(0);
    expect(quoteEnhanced.usdMicros).toBeGreaterThan(quotePlain.usdMicros);
    await page.locator(`#quote-enhanced[data-usd-micros="${quoteEnhanced.usdMicros}"]`).waitFor();
    expect(await page.locator("#quote-plain").innerText()).toBe(`up to ${formatUsdMicros(quotePlain.usdMicros)}`);
    expect(await page.locator("#quote-enhanced").innerText()).toBe(`up to ${formatUsdMicros(quoteEnhanced.usdMicros)}`);
    expect(await page.locator("#quote-total").innerText()).toBe(
      `up to ${formatUsdMicros(quotePlain.usdMicros + quoteEnhanced.usdMicros)}`,
    );
    // The price of an image comes from /api/info, not from the site.
    const { pricing } = (await (await fetch(`${site}/api/info`)).json()).data as ApiBody<"getInfo", 200>["data"];
    expect(await page.locator("#pricing-fact").innerText()).toContain(
      `One image from ${pricing.image.model} costs ${formatUsdMicros(pricing.image.usdMicros)}`,
    );
    // Submit from the keyboard.
    await page.getByRole("button", { name: "Generate both" }).focus();
    const status = await settled(page, "#tti-status", () => page.keyboard.press("Enter"));
    // Focus stays on the button that was pressed, rather than dropping to the page while it was busy.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Generate both");
    expect(status, status.text).toMatchObject({ state: "done" });

    for (const panel of ["#result-plain", "#result-enhanced"]) {
      expect(await imageLoaded(page, `${panel} img`)).toBe(true);
      expect(await page.locator(`${panel} .elapsed`).innerText()).toMatch(/\d+(\.\d+)? m?s in the browser/);
    }
    // Two requests spent (bootstrap and key creation spend none), as GET /api/me reports.
    await page.locator("#quota", { hasText: "Quota: 98 of 100 requests left this hour" }).waitFor();
    journey.quotaResetAt = (
      await api<{ data: { quota: { resetAt: string } } }>("/api/me", journey.projectKey)
    ).data.quota.resetAt;
    expect(await page.locator("#original-prompt").innerText()).toBe(JOURNEY_PROMPT);
    expect(await page.locator("#enhanced-prompt").innerText()).toBe(scriptedEnhancement.enhancedPrompt);
    expect(await page.locator("#improvements li").allInnerTexts()).toEqual(scriptedEnhancement.improvements);

    const sent = JSON.parse(await page.locator("#request-json").innerText());
    expect(sent).toEqual(bodies);
    await page.locator("summary", { hasText: "Response explorer" }).click();
    expect(await page.locator("#response-tree .json-key", { hasText: "enhancedPrompt" }).count()).toBeGreaterThan(0);
    await page.locator("summary", { hasText: "Raw JSON" }).click();
    const received = JSON.parse(await page.locator("#response-json").innerText());
    expect(received.withEnhancement.data.enhancement).toMatchObject({ applied: true, template: "illustration" });
    expect(received.withoutEnhancement.data.enhancement).toBeNull();
    // Each result shows the cost its response carries, within its quote.
    const results = [
      ["#result-plain", received.withoutEnhancement.data.cost, quotePlain],
      ["#result-enhanced", received.withEnhancement.data.cost, quoteEnhanced],
    ] as const;
    for (const [panel, cost, quote] of results) {
      expect(cost.usdMicros).toBeGreaterThan(0);
      expect(cost.usdMicros).toBeLessThanOrEqual(quote.usdMicros);
      const shown = page.locator(`${panel} .cost`);
      expect(Number(await shown.getAttribute("data-usd-micros"))).toBe(cost.usdMicros);
      expect(await shown.innerText()).toBe(
        `${formatUsdMicros(cost.usdMicros)} (image ${formatUsdMicros(cost.breakdown.generation)}, enhancement ${formatUsdMicros(cost.breakdown.enhancement)})`,
      );
    }
    journey.generatedUrl = received.withEnhancement.data.outputImage.url;
    journey.generatedImageId = received.withEnhancement.data.outputImageId;
    await checkPage("demo-tti");

    // The code for these settings works when pasted: cURL, JavaScript and Python run here as written.
    const curl = await page.locator("#tti-code pre").innerText();
    expect(curl).toContain(`${site}/api/v1/generations`);
    expect(curl).toContain('-H "X-API-Key: $BANATIE_API_KEY"');
    const curlAnswer = JSON.parse(await runSnippet("bash", ["-c", curl], journey.projectKey));
    journey.snippetsRun++;
    expect(curlAnswer.data.enhancement).toMatchObject({ applied: true, template: "illustration" });
    await page.getByRole("tab", { name: "JavaScript" }).click();
    const javascript = await page.locator("#tti-code pre").innerText();
    const dir = await mkdtemp(path.join(tmpdir(), "banatie-snippet-"));
    try {
      await writeFile(path.join(dir, "snippet.mjs"), javascript);
      expect(await runSnippet(process.execPath, [path.join(dir, "snippet.mjs")], journey.projectKey)).toMatch(/^http.*\.webp$/);
      journey.snippetsRun++;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await page.getByRole("tab", { name: "Python" }).click();
    journey.pythonSnippet = await page.locator("#tti-code pre").innerText();
    expect(journey.pythonSnippet).toContain('"autoEnhance": True');
    // The key the browser keeps never appears in code meant to be copied: it comes from the environment.
    for (const snippet of [curl, javascript, journey.pythonSnippet]) expect(snippet).not.toContain(journey.projectKey);
  });

  it("composes from references chosen in the gallery and uploaded, then edits a result in its flow", async () => {
    type Generation = ApiBody<"createGenerationV1", 201>["data"];
    // Thumbnails in the picker: the server makes them, or the page falls back to the full image.
    const thumbnail = await fetch(`${journey.generatedUrl}?preset=thumbnail`);
    await thumbnail.arrayBuffer();
    if (!thumbnail.ok) watch.expectFailure("preset=thumbnail", thumbnail.status);

    // Nine uploads through the API make 13 images, one more than a page of the picker's gallery tab:
    // the workbench's first images, the oldest, are on its second page.
    const fixture = uploadFixture();
    for (let index = 0; index < 9; index++) {
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(fixture.buffer)], { type: fixture.mimeType }), `reference-${index}.png`);
      const response = await fetch(`${site}/api/v1/images/upload`, {
        method: "POST",
        headers: { "X-API-Key": journey.projectKey },
        body: form,
      });
      expect(response.status, await response.text()).toBe(201);
    }
    journey.referenceRequests += 9;
    journey.referenceUploads += 9;

    await visit("/demo/tti");
    await page.locator("#template option").nth(6).waitFor({ state: "attached" });
    await page.getByLabel("Prompt", { exact: true }).fill("the lighthouse and the logo, side by side on a poster");
    expect(await page.locator("#references-empty").isVisible()).toBe(true);
    const gallery = await settled(page, "#reference-gallery-status", () => page.locator("#reference-adder > summary").click());
    expect(gallery, gallery.text).toMatchObject({ state: "done" });
    expect(gallery.text).toContain("Showing 12 of 13 images");
    const morePage = await settled(page, "#reference-gallery-status", () =>
      page.getByRole("button", { name: "More images" }).click(),
    );
    expect(morePage.text).toContain("Showing 13 of 13 images");
    expect(await page.getByRole("button", { name: "More images" }).isHidden()).toBe(true);
    // The earlier generated image, from the gallery tab.
    const generated = page.locator(`#reference-choices button[data-image-id="${journey.generatedImageId}"]`);
    expect(await imageLoaded(page, `#reference-choices button[data-image-id="${journey.generatedImageId}"] img`)).toBe(true);
    await generated.click();
    expect(await generated.getAttribute("aria-pressed")).toBe("true");
    // A fixture, uploaded in the upload tab after the upload page's checks.
    await page.getByRole("tab", { name: "Upload a file" }).click();
    const file = { ...fixture, name: "journey-reference.png" };
    const uploaded = await settled(page, "#reference-upload-status", () => page.getByLabel("Image file").setInputFiles(file));
    expect(uploaded, uploaded.text).toMatchObject({ state: "done" });
    journey.referenceRequests++;
    journey.referenceUploads++;
    const previews = page.locator("#reference-previews li");
    expect(await previews.count()).toBe(2);
    const removeButtons = page.locator("#reference-previews").getByRole("button", { name: /^Remove reference \d/ });
    expect(await removeButtons.allInnerTexts()).toEqual(["Remove", "Remove"]);
    expect(await previews.nth(1).innerText()).toContain("journey-reference.png");
    for (const index of [0, 1]) expect(await imageLoaded(page, `#reference-previews li:nth-child(${index + 1}) img`)).toBe(true);
    const referenceIds = await previews.evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.imageId));
    expect(referenceIds[0]).toBe(journey.generatedImageId);
    await checkPage("demo-tti-references");

    // A third reference is allowed; a fourth is refused with a message, and removing one makes room.
    await page.getByRole("tab", { name: "From the gallery" }).click();
    const unchosen = page.locator('#reference-choices button[aria-pressed="false"]');
    await unchosen.nth(1).waitFor();
    const third = await settled(page, "#references-status", () => unchosen.first().click());
    expect(third, third.text).toMatchObject({ state: "done" });
    expect(await previews.count()).toBe(3);
    const fourth = await settled(page, "#references-status", () => unchosen.first().click());
    expect(fourth.state).toBe("error");
    expect(fourth.text).toContain("At most 3 references per generation");
    expect(await previews.count()).toBe(3);
    await page
      .locator("#reference-previews")
      .getByRole("button", { name: /^Remove reference 3,/ })
      .click();
    expect(await previews.count()).toBe(2);

    // The quote counts the two references: it is the API's quote for the same two bodies, higher than without them.
    type Quote = ApiBody<"createQuote", 200>["data"];
    const quoted = async (json: Record<string, unknown>) =>
      (await api<{ data: Quote }>("/api/quotes", journey.projectKey, { method: "POST", json })).data;
    const shared = {
      prompt: await page.getByLabel("Prompt", { exact: true }).inputValue(),
      aspectRatio: await page.getByLabel("Aspect ratio").inputValue(),
      outputFormat: await page.getByLabel("Output format").inputValue(),
    };
    const enhancement = {
      autoEnhance: true,
      enhancementOptions: { template: await page.getByLabel("Template", { exact: true }).inputValue() },
    };
    const [plainWith, enhancedWith, plainWithout, enhancedWithout] = await Promise.all([
      quoted({ ...shared, autoEnhance: false, referenceImages: referenceIds }),
      quoted({ ...shared, ...enhancement, referenceImages: referenceIds }),
      quoted({ ...shared, autoEnhance: false }),
      quoted({ ...shared, ...enhancement }),
    ]);
    expect(plainWith.usdMicros).toBeGreaterThan(plainWithout.usdMicros);
    expect(enhancedWith.usdMicros).toBeGreaterThan(enhancedWithout.usdMicros);
    await page.locator(`#quote-total[data-usd-micros="${plainWith.usdMicros + enhancedWith.usdMicros}"]`).waitFor();
    expect(await page.locator("#quote-plain").innerText()).toBe(`up to ${formatUsdMicros(plainWith.usdMicros)}`);
    expect(await page.locator("#quote-enhanced").innerText()).toBe(`up to ${formatUsdMicros(enhancedWith.usdMicros)}`);
    expect(await page.locator("#quote").innerText()).toContain("Includes 2 references.");

    // Generating sends the two, and both results say they used them.
    const composed = await settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    expect(composed, composed.text).toMatchObject({ state: "done" });
    journey.referenceRequests += 2;
    const sent = JSON.parse(await page.locator("#request-json").innerText());
    expect(sent.withoutEnhancement.referenceImages).toEqual(referenceIds);
    expect(sent.withEnhancement.referenceImages).toEqual(referenceIds);
    for (const panel of ["#result-plain", "#result-enhanced"]) {
      expect(await imageLoaded(page, `${panel} img`)).toBe(true);
      expect(await page.locator(`${panel} .references`).innerText()).toBe("2 references");
    }
    const received = JSON.parse((await page.locator("#response-json").textContent()) ?? "");
    const result: Generation = received.withEnhancement.data;
    // The API, read with the key outside the browser, stored which images the generation used.
    const stored = (await api<{ data: Generation }>(`/api/v1/generations/${result.id}`, journey.projectKey)).data;
    expect(stored.referencedImages.map((reference) => reference.imageId)).toEqual(referenceIds);
    // The code for these settings makes the same v1 call.
    const curl = await page.locator("#tti-code pre").innerText();
    expect(curl).toContain(`${site}/api/v1/generations`);
    expect(curl).toContain(`"referenceImages":${JSON.stringify(referenceIds)}`);

    // "Edit this image": that result alone in the picker, the prompt ready for the change, the flow continued.
    await page.locator("#result-enhanced").getByRole("button", { name: "Edit this image" }).click();
    expect(await previews.count()).toBe(1);
    expect(await previews.first().getAttribute("data-image-id")).toBe(result.outputImageId);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("prompt");
    const promptBox = page.getByLabel("Prompt", { exact: true });
    expect(await promptBox.getAttribute("placeholder")).toBe("Describe the change");
    expect(await promptBox.inputValue()).toBe("");
    expect(await page.locator("#flow-id").innerText()).toBe(result.flowId);
    await page.keyboard.type("make the sky stormy");
    expect(await page.locator("#tti-code pre").innerText()).toContain(`"flowId":"${result.flowId}"`);
    const edited = await settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    expect(edited, edited.text).toMatchObject({ state: "done" });
    journey.referenceRequests += 2;
    const sentEdit = JSON.parse(await page.locator("#request-json").innerText());
    expect(sentEdit.withEnhancement).toMatchObject({ referenceImages: [result.outputImageId], flowId: result.flowId });
    const receivedEdit = JSON.parse((await page.locator("#response-json").textContent()) ?? "");
    for (const side of ["withoutEnhancement", "withEnhancement"] as const) {
      const generation = (
        await api<{ data: Generation }>(`/api/v1/generations/${receivedEdit[side].data.id}`, journey.projectKey)
      ).data;
      expect(generation.flowId).toBe(result.flowId);
      expect(generation.referencedImages.map((reference) => reference.imageId)).toEqual([result.outputImageId]);
    }
    expect(await page.locator("#result-plain .references").innerText()).toBe("1 reference");
    await checkPage("demo-tti-edit");

    // The gallery's link to edit an image opens the workbench with it chosen, continuing its flow when it has one.
    // Opened without a key in the browser, it waits for one added in the menu.
    const image = (await api<ApiBody<"getV1Image", 200>>(`/api/v1/images/${result.outputImageId}`, journey.projectKey)).data;
    await page.evaluate(() => localStorage.removeItem("banatie.projectKey"));
    await visit(`/demo/tti?edit=${result.outputImageId}`);
    expect((await settled(page, "#tti-status")).text).toContain("MISSING_API_KEY");
    await page.locator("#key-panel summary").click();
    await page.getByLabel("Add a key").fill(journey.projectKey);
    await page.getByRole("button", { name: "Save key" }).click();
    await page.locator(`#reference-previews li[data-image-id="${result.outputImageId}"]`).waitFor();
    await page.locator("#key-summary", { hasText: "project + master" }).waitFor();
    expect(await page.locator("#tti-status").getAttribute("data-state")).toBe("idle");
    expect(await previews.count()).toBe(1);
    expect(await promptBox.getAttribute("placeholder")).toBe("Describe the change");
    // The image belongs to the flow of the generation that made it, which the link continues.
    expect(image.flowId).toBe(result.flowId);
    expect(await page.locator("#flow-id").innerText()).toBe(image.flowId);
    await checkPage("demo-tti-edit-link");
    // Starting a new flow keeps the reference and stops continuing the flow.
    await page.getByLabel("Prompt", { exact: true }).fill("the same scene in winter");
    await page.getByRole("button", { name: "Start a new flow" }).click();
    expect(await page.locator("#flow-line").isHidden()).toBe(true);
    const code = await page.locator("#tti-code pre").innerText();
    expect(code).not.toContain('"flowId"');
    expect(code).toContain(`"referenceImages":["${result.outputImageId}"]`);
  });

  it("runs the Python code for those settings as pasted", async (context) => {
    skipIfMissing(context, await missingPython(["requests"]));
    const dir = await mkdtemp(path.join(tmpdir(), "banatie-snippet-"));
    try {
      await writeFile(path.join(dir, "snippet.py"), journey.pythonSnippet);
      expect(await runSnippet("python3", [path.join(dir, "snippet.py")], journey.projectKey)).toMatch(/^http.*\.webp$/);
      journey.snippetsRun++;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs the workbench asynchronously: each result follows its generation's status, and one is canceled", async () => {
    type Generation = ApiBody<"getGenerationV1", 200>["data"];
    // The headers Chromium sent with each POST of a generation.
    const posts: Record<string, string>[] = [];
    const onRequest = (request: Request) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === "/api/v1/generations") posts.push(request.headers());
    };
    page.on("request", onRequest);
    // Reads of each generation the page follows: how many, and never two of one generation at once.
    const reads = { total: 0, inFlight: new Map<string, number>(), mostAtOnce: 0 };
    const readOf = (request: Request) =>
      request.method() === "GET" && /^\/api\/v1\/generations\/[^/]+$/.test(new URL(request.url()).pathname)
        ? new URL(request.url()).pathname
        : null;
    const onRead = (request: Request) => {
      const read = readOf(request);
      if (!read) return;
      reads.total++;
      reads.inFlight.set(read, (reads.inFlight.get(read) ?? 0) + 1);
      reads.mostAtOnce = Math.max(reads.mostAtOnce, reads.inFlight.get(read) ?? 0);
    };
    const onReadEnd = (request: Request) => {
      const read = readOf(request);
      if (read) reads.inFlight.set(read, (reads.inFlight.get(read) ?? 1) - 1);
    };
    page.on("request", onRead);
    page.on("requestfinished", onReadEnd);
    page.on("requestfailed", onReadEnd);
    await visit("/demo/tti");
    await page.locator("#template option").nth(6).waitFor({ state: "attached" });
    await page.getByLabel("Run asynchronously").check();
    // The code for these settings asks for the same: cURL sends the header, JavaScript follows Location to the image.
    expect(await page.locator("#tti-code pre").innerText()).toContain('-H "Prefer: respond-async"');
    await page.getByRole("tab", { name: "JavaScript" }).click();
    const javascript = await page.locator("#tti-code pre").innerText();
    expect(javascript).toContain('Prefer: "respond-async"');
    const dir = await mkdtemp(path.join(tmpdir(), "banatie-snippet-"));
    try {
      await writeFile(path.join(dir, "snippet.mjs"), javascript);
      expect(await runSnippet(process.execPath, [path.join(dir, "snippet.mjs")], journey.projectKey)).toMatch(/^http.*\.png$/);
      journey.asyncRequests++;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // The fake holds each model call 2.5 s, so the results are seen processing on their way to success.
    await page.getByLabel("Prompt", { exact: true }).fill(`${JOURNEY_PROMPT} [fake:delay=2500]`);
    const started = Date.now();
    const status = await settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    const elapsed = Date.now() - started;
    expect(status, status.text).toMatchObject({ state: "done" });
    journey.asyncRequests += 2;
    expect(posts.map((headers) => headers.prefer)).toEqual(["respond-async", "respond-async"]);
    expect(await page.locator("#request-headers").innerText()).toContain("Prefer: respond-async");
    expect(await page.locator("#result-plain .lifecycle").innerText()).toBe("Status: pending → processing → success");
    expect(await page.locator("#result-enhanced .lifecycle").innerText()).toMatch(/^Status: pending → (processing → )?success$/);
    // Followed with reads of the Location, one at a time per generation, waiting longer and longer between them: no
    // more reads of each than the backoff fits in the time it took.
    let fitting = 0;
    for (let waited = nextPollDelay(0); waited <= elapsed; waited += nextPollDelay(fitting)) fitting++;
    expect(reads.total).toBeGreaterThanOrEqual(2);
    expect(reads.total).toBeLessThanOrEqual(2 * fitting);
    expect(reads.mostAtOnce).toBe(1);
    const received = JSON.parse((await page.locator("#response-json").textContent()) ?? "");
    for (const [panel, side] of [
      ["#result-plain", "withoutEnhancement"],
      ["#result-enhanced", "withEnhancement"],
    ] as const) {
      expect(await imageLoaded(page, `${panel} img`)).toBe(true);
      expect(await page.locator(panel).getByRole("button", { name: "Cancel" }).isHidden()).toBe(true);
      // The API, read with the key outside the browser, holds the same succeeded generation.
      const stored = (await api<{ data: Generation }>(`/api/v1/generations/${received[side].data.id}`, journey.projectKey)).data;
      expect(stored.status).toBe("success");
      expect(stored.outputImage?.url).toBe(await page.locator(`${panel} img`).getAttribute("src"));
      expect(Number(await page.locator(`${panel} .cost`).getAttribute("data-usd-micros"))).toBe(stored.cost.usdMicros);
    }
    await checkPage("demo-tti-async");

    // Canceled while queued or running: the panel says which, and the generation ends failed, GENERATION_CANCELED.
    await page.getByLabel("Prompt", { exact: true }).fill(`${JOURNEY_PROMPT} [fake:delay=4000]`);
    const ended = settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    const cancel = page.locator("#result-plain").getByRole("button", { name: "Cancel" });
    await cancel.waitFor();
    const canceled = await settled(page, "#result-plain .cancel-status", () => cancel.click());
    expect(canceled, canceled.text).toMatchObject({ state: "done" });
    expect([cancelOutcomeText(200), cancelOutcomeText(202)]).toContain(canceled.text);
    // Canceled before it started, its request was refunded; once running, it stays spent.
    journey.asyncRequests += canceled.text === cancelOutcomeText(200) ? 1 : 2;
    const outcome = await ended;
    expect(outcome.state).toBe("error");
    expect(outcome.text).toContain("GENERATION_CANCELED");
    expect(await page.locator("#result-plain .lifecycle").innerText()).toMatch(/^Status: pending → .*failed$/);
    expect(await page.locator("#result-plain .result-status").innerText()).toContain("Generation failed");
    expect(await cancel.isHidden()).toBe(true);
    expect(await imageLoaded(page, "#result-enhanced img")).toBe(true);
    const sides = JSON.parse((await page.locator("#response-json").textContent()) ?? "");
    const stopped = (
      await api<{ data: Generation }>(`/api/v1/generations/${sides.withoutEnhancement.data.id}`, journey.projectKey)
    ).data;
    expect(stopped).toMatchObject({ status: "failed", errorCode: "GENERATION_CANCELED", outputImage: null });
    expect(reads.mostAtOnce).toBe(1);
    page.off("request", onRequest);
    page.off("request", onRead);
    page.off("requestfinished", onReadEnd);
    page.off("requestfailed", onReadEnd);
    await checkPage("demo-tti-async-canceled");
  });

  it("sets the project's webhook endpoint and events, rotates its secret once shown, and lists its deliveries", async () => {
    const receiver = await startWebhookReceiver();
    const inbox = `${receiver.url}/hooks/journey`;
    const received = async () =>
      (await (await fetch(`${receiver.url}/__fake/inboxes/journey/requests`)).json()) as ReceivedWebhook[];
    try {
      await visit("/admin/apikeys");
      await Promise.all([page.waitForURL(`${site}/admin/webhooks`), page.locator('header a[href="/admin/webhooks"]').click()]);
      expect(await settled(page, "#settings-status")).toMatchObject({ state: "done", text: "No endpoint set yet." });
      expect(await page.locator("#secret-state").innerText()).toContain("No signing secret yet");
      await settled(page, "#deliveries-status");
      expect(await page.locator("#deliveries-empty").innerText()).toBe("No deliveries yet.");

      // A private address is refused by the API, which names the field.
      watch.expectFailure("/api/v1/webhooks", 400);
      await page.getByLabel("URL", { exact: true }).fill("https://10.0.0.1");
      await page.getByLabel("generation.succeeded").check();
      const refused = await settled(page, "#settings-status", () =>
        page.getByRole("button", { name: "Save", exact: true }).click(),
      );
      expect(refused.state).toBe("error");
      expect(refused.text).toMatch(/\(400\)[\s\S]*url: .+[\s\S]*VALIDATION_ERROR/);
      type Settings = ApiBody<"getWebhookSettings", 200>["data"];
      const unchanged = (await api<{ data: Settings }>("/api/v1/webhooks", journey.projectKey)).data;
      expect(unchanged.url).toBeNull();

      // A receiver on this machine (ENVIRONMENT test allows http://127.0.0.1) for two of the three events.
      await page.getByLabel("URL", { exact: true }).fill(inbox);
      await page.getByLabel("generation.failed").check();
      const saved = await settled(page, "#settings-status", () =>
        page.getByRole("button", { name: "Save", exact: true }).click(),
      );
      expect(saved, saved.text).toMatchObject({ state: "done" });
      const settings = (await api<{ data: Settings }>("/api/v1/webhooks", journey.projectKey)).data;
      expect(settings).toMatchObject({ url: inbox, events: ["generation.succeeded", "generation.failed"], enabled: true });

      // The secret is shown once, with a warning, and copies; rotating again leaves the previous one signing for a while.
      const rotate = page.getByRole("button", { name: "Rotate secret" });
      expect(await settled(page, "#secret-status", () => rotate.click())).toMatchObject({ state: "done" });
      const first = await page.getByLabel("New signing secret").inputValue();
      expect(first).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      expect(await page.locator("#secret-result").getByRole("alert").innerText()).toContain("Shown once");
      await page.getByRole("button", { name: "Copy", exact: true }).click();
      await page.locator("#secret-copy-feedback", { hasText: "Copied" }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
      expect(await settled(page, "#secret-status", () => rotate.click())).toMatchObject({ state: "done" });
      const second = await page.getByLabel("New signing secret").inputValue();
      expect(second).toMatch(/^whsec_/);
      expect(second).not.toBe(first);
      expect(await page.locator("#secret-state").innerText()).toContain("The previous secret still signs too, until");
      // Shown once: the settings never carry it, and a reload shows the state only.
      expect(JSON.stringify(await api("/api/v1/webhooks", journey.projectKey))).not.toContain(second);
      await visit("/admin/webhooks");
      await settled(page, "#settings-status");
      expect(await page.locator("#secret-result").isHidden()).toBe(true);
      expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe(inbox);
      expect(await page.getByLabel("generation.started").isChecked()).toBe(false);
      expect(await page.getByLabel("generation.succeeded").isChecked()).toBe(true);
      expect(await page.locator("#secret-state").innerText()).toContain("The previous secret still signs too, until");
      await checkPage("admin-webhooks");

      // A generation with the key: its generation.succeeded is delivered, the page lists it and sends it again.
      await api("/api/v1/generations", journey.projectKey, {
        method: "POST",
        json: { prompt: JOURNEY_PROMPT, autoEnhance: false },
      });
      journey.asyncRequests++;
      type Deliveries = ApiBody<"listWebhookDeliveries", 200>;
      let deliveries = await api<Deliveries>("/api/v1/webhooks/deliveries", journey.projectKey);
      // Waits for the first attempts to be made, so none lands while the page redelivers.
      const waiting = () => deliveries.pagination.total === 0 || deliveries.data.some((delivery) => delivery.state === "pending");
      for (let wait = 0; wait < 40 && waiting(); wait++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        deliveries = await api<Deliveries>("/api/v1/webhooks/deliveries", journey.projectKey);
      }
      const listed = await settled(page, "#deliveries-status", () =>
        page.getByRole("button", { name: "Refresh", exact: true }).click(),
      );
      expect(listed, listed.text).toMatchObject({ state: "done" });
      deliveries = await api<Deliveries>("/api/v1/webhooks/deliveries", journey.projectKey);
      const rows = page.locator("#deliveries tr");
      expect(deliveries.data.map((delivery) => [delivery.event, delivery.state])).toEqual([
        ["generation.succeeded", "succeeded"],
      ]);
      expect(await page.locator("#deliveries-empty").isHidden()).toBe(true);
      expect(await rows.evaluateAll((items) => items.map((item) => item.getAttribute("data-id")))).toEqual(
        deliveries.data.map((delivery) => delivery.id),
      );
      const newest = deliveries.data[0]!;
      expect(await rows.first().innerText()).toContain(newest.event);
      const before = (await received()).length;
      const again = await settled(page, "#deliveries-status", () =>
        rows
          .first()
          .getByRole("button", { name: /^Redeliver/ })
          .click(),
      );
      expect(again, again.text).toMatchObject({ state: "done" });
      expect(again.text).toMatch(/^Redelivered: HTTP 204 in \d/);
      // The receiver got it again, with the same webhook-id, signed by both secrets while the rotation lasts.
      const sent = (await received()).slice(before);
      expect(sent.map((request) => request.headers["webhook-id"])).toEqual([newest.messageId]);
      expect(sent[0]?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
      expect(await rows.first().locator(".attempts").innerText()).toBe(String(newest.attempts + 1));
    } finally {
      await receiver.stop();
    }
  });

  it("finds the generated image in the gallery, with thumbnails and metadata", async () => {
    // What the server does today with the thumbnail option decides what the page may do: show it, or fall back.
    const thumbnail = await fetch(`${journey.generatedUrl}?preset=thumbnail`);
    await thumbnail.arrayBuffer();
    const thumbnailsServed = thumbnail.ok && (thumbnail.headers.get("content-type") ?? "").startsWith("image/");
    if (!thumbnailsServed) watch.expectFailure("preset=thumbnail", thumbnail.status);

    await visit("/demo/gallery");
    expect(await settled(page, "#gallery-status")).toMatchObject({ state: "done" });
    await page.locator("#gallery-timing", { hasText: "Page loaded in" }).waitFor();
    await page.getByLabel("Search prompts and file names").fill("lighthouse");
    await page.getByLabel("Format", { exact: true }).selectOption("webp");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.locator("#gallery-timing", { hasText: "Page loaded in" }).waitFor();
    const card = page.locator(".gallery-card", { has: page.locator(`a[href="${journey.generatedUrl}"]`) });
    await card.waitFor();
    expect(await card.innerText()).toContain("1344×768");
    expect(await card.innerText()).toContain("image/webp");
    expect(await card.innerText()).toContain(JOURNEY_PROMPT);
    const image = card.locator("img");
    expect(await image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(true);
    expect(await image.getAttribute("data-fallback")).toBe(thumbnailsServed ? null : "full");
    for (const text of await page.locator(".gallery-card .prompt").allInnerTexts())
      expect(text.toLowerCase()).toContain("lighthouse");
    await checkPage("demo-gallery");
  });

  it("checks a file before upload, uploads it with progress and lists it", async () => {
    await visit("/demo/upload");
    await page.locator("#limits-hint", { hasText: "MB" }).waitFor();
    // Dropped on the drop zone, as a file from the desktop would be.
    const dropText = () =>
      page.locator("#drop-zone").evaluate((zone) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(["not an image"], "notes.txt", { type: "text/plain" }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
      });
    expect((await settled(page, "#check-status", dropText)).text).toContain("is not accepted");
    expect(await page.getByRole("button", { name: "Upload", exact: true }).isDisabled()).toBe(true);

    const file = uploadFixture();
    const checked = await settled(page, "#check-status", () => page.locator("#file-input").setInputFiles(file));
    expect(checked, checked.text).toMatchObject({ state: "done" });
    const preview = await page.locator("#preview-meta").innerText();
    expect(preview).toContain("320×200");
    expect(preview).toContain("8:5");
    const status = await settled(page, "#upload-status", () => page.getByRole("button", { name: "Upload", exact: true }).click());
    expect(status, status.text).toMatchObject({ state: "done" });
    expect(await page.locator("#upload-progress").evaluate((element: HTMLProgressElement) => element.value)).toBe(100);
    // Two generations on the workbench, one by each snippet that ran, the references', the asynchronous ones, and this
    // upload, from the upload's own headers.
    const left = await quotaLeft(2 + journey.snippetsRun + journey.referenceRequests + journey.asyncRequests + 1);
    expect(await page.locator("#quota").innerText()).toMatch(new RegExp(`^Quota: ${left} of 100 requests left this hour`));
    journey.uploadedUrl = (await page.locator("#result-url").getAttribute("href")) ?? "";
    expect(journey.uploadedUrl).toMatch(/\/api\/images\/default\/journey\/uploads\/.+\.png$/);
    expect(await page.locator("#result-meta").innerText()).toMatch(/Download time\s+\d/);
    expect(await page.locator("#history tr").count()).toBe(1);
    await checkPage("demo-upload");

    // The upload's cURL snippet works when pasted next to the file.
    const curl = await page.locator("#upload-code pre").innerText();
    expect(curl).toContain(`-F 'file=@${file.name}'`);
    expect(curl).not.toContain(journey.projectKey);
    const dir = await mkdtemp(path.join(tmpdir(), "banatie-upload-"));
    try {
      await writeFile(path.join(dir, file.name), file.buffer);
      const { stdout } = await run("bash", ["-c", curl], {
        cwd: dir,
        env: { ...process.env, BANATIE_API_KEY: journey.projectKey },
      });
      expect(JSON.parse(stdout).data).toMatchObject({ mimeType: "image/png", width: 320, height: 200 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    const thumbnail = await fetch(`${journey.uploadedUrl}?preset=thumbnail`);
    await thumbnail.arrayBuffer();
    if (!thumbnail.ok) watch.expectFailure("preset=thumbnail", thumbnail.status);
    await visit("/demo/gallery");
    await settled(page, "#gallery-status");
    await page.getByLabel("Show", { exact: true }).selectOption("uploads");
    await page.locator(".gallery-card", { has: page.locator(`a[href="${journey.uploadedUrl}"]`) }).waitFor();
  });

  it("pages through more images than fit on one page", async () => {
    // 30 more uploads through the API make 32, plus the reference step's: a full first page and the rest on the second.
    const file = uploadFixture();
    await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(file.buffer)], { type: file.mimeType }), `page-${index}.png`);
        const response = await fetch(`${site}/api/upload`, {
          method: "POST",
          headers: { "X-API-Key": journey.projectKey },
          body: form,
        });
        expect(response.status, await response.text()).toBe(201);
      }),
    );
    const thumbnail = await fetch(`${journey.uploadedUrl}?preset=thumbnail`);
    await thumbnail.arrayBuffer();
    if (!thumbnail.ok) watch.expectFailure("preset=thumbnail", thumbnail.status);

    await visit("/demo/gallery");
    await page.getByLabel("Show", { exact: true }).selectOption("uploads");
    await page.waitForFunction(() => document.querySelectorAll(".gallery-card").length === 30);
    const firstPage = await page
      .locator(".gallery-card a")
      .evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    await page.getByRole("button", { name: "Next page" }).click();
    await page.locator("#page-label", { hasText: "Page 2" }).waitFor();
    // Focus follows the new page instead of staying on a button that may now be disabled.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("gallery-grid");
    expect(await page.locator(".gallery-card").count()).toBe(2 + journey.referenceUploads);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    const secondPage = await page
      .locator(".gallery-card a")
      .evaluateAll((links) => links.map((link) => link.getAttribute("href")));
    expect(secondPage.filter((href) => firstPage.includes(href))).toEqual([]);
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.locator("#page-label", { hasText: "Page 1" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll(".gallery-card").length === 30);
  });

  it("loads the gallery as soon as a key is added in the menu, without a reload", async () => {
    const thumbnail = await fetch(`${journey.generatedUrl}?preset=thumbnail`);
    await thumbnail.arrayBuffer();
    if (!thumbnail.ok) watch.expectFailure("preset=thumbnail", thumbnail.status);

    await visit("/demo/gallery");
    expect(await settled(page, "#gallery-status")).toMatchObject({ state: "done" });
    await page.locator("#key-panel summary").click();
    const removed = await settled(page, "#gallery-status", () =>
      page.getByRole("button", { name: "Remove project key" }).click(),
    );
    expect(removed.text).toContain("MISSING_API_KEY");
    expect(await page.locator(".gallery-card").count()).toBe(0);

    await page.getByLabel("Add a key").fill(journey.projectKey);
    const added = await settled(page, "#gallery-status", () => page.getByRole("button", { name: "Save key" }).click());
    expect(added, added.text).toMatchObject({ state: "done" });
    await page.locator(".gallery-card", { has: page.locator(`a[href="${journey.generatedUrl}"]`) }).waitFor();
    await page.locator("#key-summary", { hasText: "project + master" }).waitFor();
  });

  it("opens an image's page from its gallery card: generation, aliases, copy, download and presets", async () => {
    await visit("/demo/gallery");
    expect(await settled(page, "#gallery-status")).toMatchObject({ state: "done" });
    const card = page.locator(".gallery-card", { has: page.locator(`a[href="${journey.generatedUrl}"]`) });
    const details = card.getByRole("link", { name: /^Details: / });
    const href = (await details.getAttribute("href")) ?? "";
    const imageId = new URL(href, site).searchParams.get("id") ?? "";
    expect(href).toBe(imagePageHref(imageId));
    const image = (await api<ApiBody<"getV1Image", 200>>(`/api/v1/images/${imageId}`, journey.projectKey)).data;
    const generation = (
      await api<ApiBody<"getGenerationV1", 200>>(`/api/v1/generations/${image.generationId}`, journey.projectKey)
    ).data;
    await details.focus();
    await Promise.all([page.waitForURL(`${site}${href}`), page.keyboard.press("Enter")]);
    expect(await settled(page, "#image-status")).toMatchObject({ state: "done" });
    expect(await imageLoaded(page, "#full-image")).toBe(true);
    const meta = await page.locator("#image-meta").innerText();
    for (const fact of [`${image.width}×${image.height}`, image.mimeType, "generated", imageId]) expect(meta).toContain(fact);
    expect(await page.getByRole("link", { name: "Edit this image" }).getAttribute("href")).toBe(`/demo/tti?edit=${imageId}`);

    // The generation that made it, with the prompt the model received and the one written.
    expect(await settled(page, "#generation-status")).toMatchObject({ state: "done" });
    expect(await page.locator("#generation-prompt").innerText()).toBe(generation.prompt);
    expect(await page.locator("#generation-original-prompt").innerText()).toBe(JOURNEY_PROMPT);

    // "Copy URL" copies the stable img/{id} URL.
    await page.getByRole("button", { name: "Copy URL" }).click();
    await page.locator("#copy-feedback", { hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(image.storageUrl);
    expect(image.storageUrl).toMatch(new RegExp(`/img/${imageId}$`));

    // "Download" saves the image's bytes under its file name.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      settled(page, "#download-status", () => page.getByRole("button", { name: "Download", exact: true }).click()),
    ]);
    expect(download.suggestedFilename()).toBe(path.basename(new URL(image.url).pathname));
    const saved = await readFile((await download.path()) as string);
    const served = Buffer.from(await (await fetch(image.url)).arrayBuffer());
    expect(saved.length).toBe(image.fileSize);
    expect(saved.equals(served)).toBe(true);

    // Each built-in preset loads at its size: a 256 px square, or the image fitted inside 480, 960 and 1920 px.
    const fitted = (side: number) => Math.round(image.width * Math.min(side / image.width, side / image.height));
    const widths = { thumbnail: 256, small: fitted(480), medium: fitted(960), large: fitted(1920) };
    for (const [preset, width] of Object.entries(widths)) {
      const picture = `#presets img[data-preset="${preset}"]`;
      expect(await imageLoaded(page, picture), preset).toBe(true);
      expect(await page.locator(picture).evaluate((element: HTMLImageElement) => element.naturalWidth), preset).toBe(width);
    }

    // An alias the API refuses reads as its format error; a good one is set, typed without its @.
    watch.expectFailure(`/api/v1/images/${imageId}/alias`, 400);
    await page.getByLabel("Project alias").fill("@not an alias!");
    const refused = await settled(page, "#alias-status", () => page.getByRole("button", { name: "Set alias" }).click());
    expect(refused.state).toBe("error");
    expect(refused.text).toContain("Invalid alias (400)");
    expect(refused.text).toContain("ALIAS_FORMAT_CHECK");
    await page.getByLabel("Project alias").fill("journey-hero");
    const set = await settled(page, "#alias-status", () => page.getByRole("button", { name: "Set alias" }).click());
    expect(set, set.text).toMatchObject({ state: "done" });
    expect(await page.locator("#alias-badge").innerText()).toBe("@journey-hero");
    await checkPage("demo-image");

    // Back in the gallery, the card wears the alias.
    await page.goBack();
    await card.locator(".badge.alias", { hasText: "@journey-hero" }).waitFor();

    // And the image page removes it again.
    await visit(href);
    expect(await settled(page, "#image-status")).toMatchObject({ state: "done" });
    const removed = await settled(page, "#alias-status", () =>
      page.getByRole("button", { name: "Remove alias @journey-hero" }).click(),
    );
    expect(removed, removed.text).toMatchObject({ state: "done" });
    expect(await page.locator("#project-alias").innerText()).toBe("No project alias.");
    expect((await api<ApiBody<"getV1Image", 200>>(`/api/v1/images/${imageId}`, journey.projectKey)).data.alias).toBeNull();

    // An id of no image of the project says so.
    const unknown = crypto.randomUUID();
    watch.expectFailure(`/api/v1/images/${unknown}`, 404);
    await visit(`/demo/image?id=${unknown}`);
    const missing = await settled(page, "#image-status");
    expect(missing.state).toBe("error");
    expect(missing.text).toContain("Image not found (404)");
    expect(missing.text).toContain("IMAGE_NOT_FOUND");
    expect(await page.locator("#image-view").isHidden()).toBe(true);
  });

  it("shows a generation's references on its image's page, and its flow's generations in order", async () => {
    type Generation = ApiBody<"getGenerationV1", 200>["data"];
    // A flow of two generations made through the API: the second edits the first (@last) with an
    // uploaded image, which is deleted afterwards.
    const file = uploadFixture();
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(file.buffer)], { type: file.mimeType }), "flow-reference.png");
    form.append("flowId", "null");
    const upload = await fetch(`${site}/api/v1/images/upload`, {
      method: "POST",
      headers: { "X-API-Key": journey.projectKey },
      body: form,
    });
    expect(upload.status).toBe(201);
    const uploaded = ((await upload.json()) as ApiBody<"uploadV1Image", 201>).data;
    const generate = async (json: Record<string, unknown>) =>
      (await api<{ data: Generation }>("/api/v1/generations", journey.projectKey, { method: "POST", json })).data;
    const first = await generate({ prompt: "a red kite over the dunes", autoEnhance: false });
    const second = await generate({
      prompt: "the same kite at night, with the badge of image 2 on its sail",
      flowId: first.flowId,
      referenceImages: ["@last", uploaded.id],
      autoEnhance: false,
    });
    expect(second.referencedImages).toEqual([
      { imageId: first.outputImageId, alias: "@last" },
      { imageId: uploaded.id, alias: null },
    ]);
    await api(`/api/v1/images/${uploaded.id}`, journey.projectKey, { method: "DELETE" });

    watch.expectFailure(`/api/v1/images/${uploaded.id}`, 404);
    await visit(imagePageHref(second.outputImageId as string));
    expect(await settled(page, "#image-status")).toMatchObject({ state: "done" });
    expect(await settled(page, "#generation-status")).toMatchObject({ state: "done" });
    expect(await page.locator("#generation-prompt").innerText()).toBe(second.prompt);
    expect(await page.locator("#generation-link").getAttribute("href")).toBe(flowPageHref(first.flowId as string, second.id));
    // Its references: the first image, as a thumbnail linking to its own page, and the deleted upload.
    const references = page.locator("#generation .reference");
    expect(await references.count()).toBe(2);
    expect(await references.nth(0).locator("a").getAttribute("href")).toBe(imagePageHref(first.outputImageId as string));
    expect(await imageLoaded(page, "#generation .reference img")).toBe(true);
    expect(await references.nth(1).getAttribute("data-state")).toBe("deleted");
    expect(await references.nth(1).innerText()).toContain("deleted");
    await checkPage("demo-image-references");

    // Its flow, from the image's page: the generations oldest first, each with its references.
    await Promise.all([page.waitForURL(/\/demo\/flow\?id=/), page.getByRole("link", { name: "Open its flow" }).click()]);
    expect(new URL(page.url()).searchParams.get("id")).toBe(first.flowId);
    const flow = await settled(page, "#flow-status");
    expect(flow, flow.text).toMatchObject({ state: "done" });
    const generations = page.locator("#flow-generations > li");
    expect(await generations.evaluateAll((items) => items.map((item) => item.getAttribute("data-generation-id")))).toEqual([
      first.id,
      second.id,
    ]);
    expect(await page.locator("#flow-generations .flow-prompt").allInnerTexts()).toEqual([first.prompt, second.prompt]);
    expect(await generations.nth(0).locator(".reference").count()).toBe(0);
    expect(await generations.nth(1).locator(".reference").count()).toBe(2);
    expect(await generations.nth(1).locator(".reference").nth(0).locator("a").getAttribute("href")).toBe(
      imagePageHref(first.outputImageId as string),
    );
    expect(await generations.nth(1).locator(".reference").nth(1).getAttribute("data-state")).toBe("deleted");
    // Each output links to its image's page.
    expect(
      await generations.locator(".flow-output-cell a").evaluateAll((links) => links.map((link) => link.getAttribute("href"))),
    ).toEqual([imagePageHref(first.outputImageId as string), imagePageHref(second.outputImageId as string)]);
    expect(await imageLoaded(page, "#flow-generations .flow-output-cell img")).toBe(true);
    await checkPage("demo-flow");

    // Without a project key in the browser, the page asks for one, as the other workbenches do.
    await page.evaluate(() => localStorage.removeItem("banatie.projectKey"));
    await visit(imagePageHref(second.outputImageId as string));
    const keyless = await settled(page, "#image-status");
    expect(keyless.state).toBe("error");
    expect(keyless.text).toContain("No project key in this browser");
    expect(keyless.text).toContain("MISSING_API_KEY");
    await page.evaluate((key) => localStorage.setItem("banatie.projectKey", key), journey.projectKey);

    const unknown = crypto.randomUUID();
    watch.expectFailure(`/api/v1/flows/${unknown}`, 404);
    await visit(`/demo/flow?id=${unknown}`);
    const missing = await settled(page, "#flow-status");
    expect(missing.state).toBe("error");
    expect(missing.text).toContain("Flow not found (404)");
  });

  it("shows the month's usage: spend, a daily chart drawn from the API, the top keys and projects, and the CSV", async () => {
    type UsagePage = ApiBody<"getUsage", 200>["data"];
    const month = monthRange(utcMonth());
    const today = new Date().toISOString().slice(0, 10);
    const todayOf = (usage: UsagePage) => {
      const bucket = usage.data.find((candidate) => new Date(candidate.start_time * 1000).toISOString().startsWith(today));
      const results = bucket?.results ?? [];
      return {
        images: results.reduce((sum, result) => sum + result.images, 0),
        usdMicros: results.reduce((sum, result) => sum + usdToMicros(result.amount.value), 0),
      };
    };
    const usageOf = async (key: string, groupBy: string) =>
      (await api<{ data: UsagePage }>(`/api/usage?from=${month.from}&to=${month.to}&groupBy=${groupBy}`, key)).data;
    // The key must never leave the browser in a URL, the CSV's included.
    const urlsWithKey: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if ([journey.masterKey, journey.projectKey].some((key) => request.url().includes(key))) urlsWithKey.push(request.url());
    };
    page.on("request", onRequest);

    await visit("/usage");
    // A master key, kept in this browser, reads every project.
    expect(await page.getByLabel("Read with").inputValue()).toBe("master");
    expect(await settled(page, "#usage-status")).toMatchObject({ state: "done" });
    const everything = await usageOf(journey.masterKey, "day");
    const expectedToday = todayOf(everything);
    // The workbench's two images and the snippets' are today's, and they were priced.
    expect(expectedToday.images).toBeGreaterThanOrEqual(4);
    expect(expectedToday.usdMicros).toBeGreaterThan(0);
    // The chart is inline SVG drawn from the API's figures, with today's bar and dot.
    const chart = page.locator("#usage-chart svg[role=img]");
    expect(await chart.locator("title").first().textContent()).toMatch(/^Images and cost per day, /);
    // One bar per day of the month so far; the days to come stay blank.
    expect(await chart.locator("rect.bar").count()).toBe(Number(today.slice(8)));
    expect(Number(await chart.locator(`rect.bar[data-day="${today}"]`).getAttribute("data-images"))).toBe(expectedToday.images);
    expect(Number(await chart.locator(`circle.cost-dot[data-day="${today}"]`).getAttribute("data-usd-micros"))).toBe(
      expectedToday.usdMicros,
    );
    // The same figures as a table, for people who cannot see the chart.
    await page.locator("summary", { hasText: "The chart's figures as a table" }).click();
    expect(await page.locator(`#daily-rows tr[data-day="${today}"]`).innerText()).toContain(
      formatUsdMicros(expectedToday.usdMicros),
    );
    // Spend this month, with no budget on a master key.
    const monthTotal = everything.data
      .flatMap((bucket) => bucket.results)
      .reduce((sum, result) => sum + usdToMicros(result.amount.value), 0);
    expect(Number(await page.locator("#month-spend").getAttribute("data-usd-micros"))).toBe(monthTotal);
    expect(await page.locator("#budget-key").innerText()).toContain("No monthly budget set for this key");
    // The top keys and projects, named, with the API's sums.
    const byKey = await usageOf(journey.masterKey, "key");
    const journeyKey = page.locator("#top-keys tr", { hasText: "Journey app" });
    const keyId = await journeyKey.getAttribute("data-id");
    const keyMicros = byKey.data
      .flatMap((bucket) => bucket.results)
      .filter((result) => result.api_key_id === keyId)
      .reduce((sum, result) => sum + usdToMicros(result.amount.value), 0);
    expect(keyMicros).toBeGreaterThan(0);
    expect(Number(await journeyKey.locator("td[data-usd-micros]").getAttribute("data-usd-micros"))).toBe(keyMicros);
    expect(await page.locator("#top-projects tr", { hasText: "default/journey" }).count()).toBe(1);
    await checkPage("usage");

    // The project key reads its own project only.
    const asProject = await settled(page, "#usage-status", () => page.getByLabel("Read with").selectOption("project"));
    expect(asProject, asProject.text).toMatchObject({ state: "done" });
    const projectToday = todayOf(await usageOf(journey.projectKey, "day"));
    expect(Number(await chart.locator(`circle.cost-dot[data-day="${today}"]`).getAttribute("data-usd-micros"))).toBe(
      projectToday.usdMicros,
    );
    expect(await page.locator("#top-projects tr").allInnerTexts()).toEqual([expect.stringContaining("default/journey")]);

    // The CSV is the API's CSV, byte for byte, saved from the page without the key in any link.
    await page.getByLabel("Rows by").selectOption("key");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      settled(page, "#csv-status", () => page.getByRole("button", { name: "Download CSV" }).click()),
    ]);
    expect(download.url()).toMatch(/^blob:/);
    expect(download.suggestedFilename()).toBe(`usage-${month.from}-${month.to}.csv`);
    const saved = await readFile((await download.path()) as string, "utf8");
    const expectedCsv = await api<string>(
      `/api/usage/export.csv?from=${month.from}&to=${month.to}&groupBy=key`,
      journey.projectKey,
    );
    expect(saved).toBe(expectedCsv);
    expect(saved.split("\r\n")[0]).toMatch(/^start_time,end_time,project_id,api_key_id,/);
    expect(saved).toContain(keyId as string);
    expect(await page.locator("#csv-status").innerText()).toContain(`usage-${month.from}-${month.to}.csv`);
    page.off("request", onRequest);
    expect(urlsWithKey).toEqual([]);
  });

  it("shows the key's budget against its spend, and the workbench's 402 when a generation would cross it", async () => {
    // A master key gives the journey key a budget of one cent: less than one image's quote.
    const keys = await api<ApiBody<"listApiKeys", 200>>("/api/admin/keys?type=project", journey.masterKey);
    const key = keys.data.find((candidate) => candidate.name === "Journey app");
    await api(`/api/admin/keys/${key?.id}`, journey.masterKey, { method: "PATCH", json: { monthlyBudgetUsd: 0.01 } });
    const me = (await api<ApiBody<"getMe", 200>>("/api/me", journey.projectKey)).data;
    const budget = me.budgets.key;
    expect(budget).toMatchObject({ monthlyBudgetUsd: 0.01 });

    await visit("/usage");
    const loaded = await settled(page, "#usage-status", () => page.getByLabel("Read with").selectOption("project"));
    expect(loaded, loaded.text).toMatchObject({ state: "done" });
    const meter = page.getByRole("meter", { name: /Monthly budget of this key/ });
    expect(await meter.evaluate((element: HTMLMeterElement) => [element.max, element.value])).toEqual([
      10_000,
      usdToMicros(budget?.spentUsd ?? Number.NaN),
    ]);
    expect(await page.locator("#budget-key-text").innerText()).toContain(
      `${formatUsdMicros(usdToMicros(budget?.spentUsd ?? Number.NaN))} of $0.01 spent`,
    );
    expect(await page.locator("#budget-project").innerText()).toContain("No monthly budget set for this project");
    await checkPage("usage-budget");

    watch.expectFailure("/api/v1/generations", 402);
    await visit("/demo/tti");
    await page.locator("#quote-total").waitFor();
    const status = await settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    expect(status.state).toBe("error");
    expect(status.text).toContain("Monthly budget exceeded (402)");
    expect(status.text).toContain("BUDGET_EXCEEDED");
    // The budget the 402 names (size, spent, the request's bound, the reset) is spelled out, not just its code.
    const refused = JSON.parse((await page.locator("#response-json").textContent()) ?? "");
    expect(refused.withoutEnhancement.budget).toMatchObject({ scope: "key", monthlyBudgetUsd: 0.01 });
    expect(status.text).toContain(budgetProblemText(refused.withoutEnhancement.budget));
    expect(status.text).toMatch(
      /The key's monthly budget is \$0\.01: \$[\d.]+ spent; this request could cost up to \$[\d.]+\. It resets /,
    );
    expect(await page.locator("#result-enhanced .result-status").innerText()).toContain("BUDGET_EXCEEDED");
    await checkPage("demo-tti-budget");
    await api(`/api/admin/keys/${key?.id}`, journey.masterKey, { method: "PATCH", json: { monthlyBudgetUsd: null } });
  });

  it("revokes the project key, after which the workbench reports the 401", async () => {
    await visit("/admin/apikeys");
    const row = page.locator("#keys tr", { hasText: "Journey app" });
    await row.getByRole("button", { name: /Revoke/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await dialog.getByLabel(/Reason/).fill("journey test");
    await dialog.getByRole("button", { name: "Revoke key" }).click();
    await page.locator("#keys tr", { hasText: "Journey app" }).locator(".badge", { hasText: "revoked" }).waitFor();
    await page.locator("#audit tr", { hasText: "key.revoked" }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("keys-status");

    watch.expectFailure("/api/v1/generations", 401);
    watch.expectFailure("/api/me", 401);
    watch.expectFailure("/api/quotes", 401);
    await visit("/demo/tti");
    await page.locator("#quota", { hasText: "REVOKED_API_KEY" }).waitFor();
    await page.locator("#template option").nth(6).waitFor({ state: "attached" });
    const status = await settled(page, "#tti-status", () => page.getByRole("button", { name: "Generate both" }).click());
    expect(status.state).toBe("error");
    expect(status.text).toContain("API key revoked (401)");
    expect(status.text).toContain("REVOKED_API_KEY");
    expect(await page.locator("#result-plain .result-status").innerText()).toContain("REVOKED_API_KEY");
    await checkPage("demo-tti-revoked");

    // The key is removable from the browser, and then the page says a key is missing.
    await page.locator("#key-panel summary").click();
    await page.getByRole("button", { name: "Remove project key" }).click();
    await page.locator("#key-summary", { hasText: "API keys: master" }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("banatie.projectKey"))).toBeNull();
  });
});
