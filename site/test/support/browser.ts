import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import type { OpenApiContract } from "../../../worker/test/support/openapi-contract.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Screenshots of every page, ignored by git; kept after the run for people and CI to look at. */
export const ARTIFACTS = path.resolve(import.meta.dirname, "..", "artifacts");

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A response the current step expects to fail (a 401 after revoking, say), by URL part and status. */
interface ExpectedFailure {
  urlIncludes: string;
  status: number;
}

/** The API's answers the page receives: what the OpenAPI document describes. */
function isApiResponse(response: Response, origin: string): boolean {
  const url = new URL(response.url());
  return url.origin === origin && (url.pathname.startsWith("/api/") || url.pathname === "/health");
}

/**
 * Records every console error, page error, failed request and HTTP error response of a page,
 * and every API response (`/api/*`, `/health`) that breaks the OpenAPI document of `contract`.
 * A step that provokes a failure on purpose declares it with `expectFailure` first; anything
 * else ends up in `problems`, which each test asserts empty after awaiting `settled()`.
 */
export function watchPage(page: Page, contract: { origin: string; check: OpenApiContract["check"] }) {
  const problems: string[] = [];
  const expected: ExpectedFailure[] = [];
  const pending = new Set<Promise<void>>();
  let checked = 0;
  const isExpected = (url: string, status: number) =>
    expected.some((failure) => url.includes(failure.urlIncludes) && failure.status === status);
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // Chromium logs every HTTP error as "Failed to load resource: ... status of 401 (...)", located at the resource.
    const status = Number(message.text().match(/status of (\d{3})/)?.[1]);
    if (status && isExpected(message.location().url, status)) return;
    problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    const failure = request.failure()?.errorText ?? "failed";
    // Leaving a page cancels its pending requests; that is navigation, not a fault.
    if (failure === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${failure}`);
  });
  page.on("response", (response) => {
    if (!isApiResponse(response, contract.origin)) return;
    const check = contract
      .check({
        method: response.request().method(),
        path: new URL(response.url()).pathname,
        status: response.status(),
        contentType: response.headers()["content-type"] ?? null,
        body: () => response.text(),
      })
      .then(
        (failure) => {
          checked++;
          if (failure) problems.push(`response outside the OpenAPI document: ${failure}`);
        },
        (error: Error) => {
          problems.push(`could not check ${response.url()} against the OpenAPI document: ${error.message}`);
        },
      )
      .finally(() => pending.delete(check));
    pending.add(check);
  });
  page.on("response", (response) => {
    if (response.status() < 400) return;
    if (isExpected(response.url(), response.status())) return;
    problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
  });

  return {
    problems,
    expectFailure(urlIncludes: string, status: number) {
      expected.push({ urlIncludes, status });
    },
    clearExpected() {
      expected.length = 0;
    },
    /** Waits for the document checks of the responses received so far. */
    async settled() {
      while (pending.size) await Promise.all(pending);
    },
    /** How many API responses were checked against the document. */
    get checked() {
      return checked;
    },
  };
}

/** Full-page screenshots at desktop and phone widths; also asserts nothing overflows sideways on the phone. */
export async function screenshots(page: Page, name: string): Promise<{ phoneOverflow: number }> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.setViewportSize(VIEWPORTS.phone);
  const phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(VIEWPORTS.desktop);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  return { phoneOverflow };
}

/** Form controls without an accessible name: each should have a <label>, aria-label or aria-labelledby. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement>("input, select, textarea"))
      .filter((control) => control.type !== "hidden")
      .filter(
        (control) => !control.labels?.length && !control.getAttribute("aria-label") && !control.getAttribute("aria-labelledby"),
      )
      .map((control) => control.outerHTML.slice(0, 120)),
  );
}
