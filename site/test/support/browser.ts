import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page, type Response } from "playwright-core";
import type { OpenApiContract } from "../../../worker/test/support/openapi-contract.ts";
import { type ChromiumBinary, findChromium } from "./chromium.ts";

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

/** Launches the Chromium that findChromium picks (or the one given) with the flags of a headless test run. */
export async function launchChromium(binary?: ChromiumBinary): Promise<Browser> {
  const { executablePath, env } = binary ?? (await findChromium());
  return chromium.launch({ executablePath, args: ARGS, headless: true, env: { ...process.env, ...env } });
}

/** A response the current step expects to fail (a 401 after revoking, say), by URL part and status. */
interface ExpectedFailure {
  urlIncludes: string;
  status: number;
}

/** What every page of the site must be served with (site/public/_headers), as a browser receives it. */
function missingPageHeaders(headers: Record<string, string>): string[] {
  const csp = headers["content-security-policy"] ?? "";
  const directives = [
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  return [
    ...directives.filter((directive) => !csp.split(";").some((part) => part.trim() === directive)),
    ...(csp.includes("'unsafe-inline'") || csp.includes("'unsafe-eval'") ? ["a CSP without unsafe-inline or unsafe-eval"] : []),
    ...(headers["x-content-type-options"] === "nosniff" ? [] : ["X-Content-Type-Options: nosniff"]),
    ...["referrer-policy", "permissions-policy"].filter((name) => !headers[name]),
  ];
}

/** The API's answers the page receives: what the OpenAPI document describes. */
function isApiResponse(response: Response, origin: string): boolean {
  const url = new URL(response.url());
  return url.origin === origin && (url.pathname.startsWith("/api/") || url.pathname === "/health");
}

/**
 * Records every console error, page error, failed request, HTTP error response and Content
 * Security Policy violation of a page, every page served without the site's security headers,
 * and every API response (`/api/*`, `/health`) that breaks the OpenAPI document of `contract`.
 * A step that provokes a failure on purpose declares it with `expectFailure` first; anything
 * else ends up in `problems`, which each test asserts empty after awaiting `settled()`.
 */
export async function watchPage(page: Page, contract: { origin: string; check: OpenApiContract["check"] }) {
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
    if (response.request().resourceType() === "document" && response.request().frame() === page.mainFrame()) {
      const missing = missingPageHeaders(response.headers());
      if (missing.length) problems.push(`page served without ${missing.join(", ")}: ${response.url()}`);
    }
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
  // Reported by the page itself, so a violation is caught even when nothing is logged for it.
  await page.exposeFunction("reportCspViolation", (violation: string) => problems.push(`CSP violation: ${violation}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { reportCspViolation(violation: string): void }).reportCspViolation;
      report(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
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
