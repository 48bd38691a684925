import { describe, expect, inject, it } from "vitest";
import { type OpenApiDocument, openApiContract } from "../../worker/test/support/openapi-contract.ts";
import { launchChromium, watchPage } from "./support/browser.ts";
import { findChromium } from "./support/chromium.ts";
import { settled } from "./support/page-state.ts";

const site = inject("siteUrl");

describe("the browser the tests drive", () => {
  it("comes from npm on a machine without a system Chromium, and runs the site there", async () => {
    const binary = await findChromium({ systemPaths: [] });
    expect(binary.source).toBe("npm");
    const browser = await launchChromium(binary);
    try {
      const page = await browser.newPage();
      const document = (await (await fetch(`${site}/api/openapi.json`)).json()) as OpenApiDocument;
      const watch = await watchPage(page, { origin: new URL(site).origin, ...(await openApiContract(document)) });
      await page.goto(`${site}/docs/reference`);
      // The reference is drawn by the site's script from the live OpenAPI document.
      expect(await settled(page, "#reference-status")).toMatchObject({ state: "done" });
      await watch.settled();
      expect(watch.problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
