import type { Page } from "playwright-core";

/**
 * Waits until a status region (see site/src/lib/status.ts) has finished, done or failed, and
 * returns how it ended with its text, so a failure shows the problem instead of a timeout.
 */
export async function settled(page: Page, selector: string): Promise<{ state: string; text: string }> {
  const region = page.locator(`${selector}[data-state="done"], ${selector}[data-state="error"]`);
  await region.waitFor({ state: "attached" });
  return { state: (await region.getAttribute("data-state")) ?? "", text: (await region.innerText()).trim() };
}

/** True once the <img> has loaded with real pixels. */
export function imageLoaded(page: Page, selector: string): Promise<boolean> {
  return page
    .locator(selector)
    .first()
    .evaluate((image: HTMLImageElement) =>
      image.complete && image.naturalWidth > 0
        ? true
        : new Promise<boolean>((resolve) => {
            image.addEventListener("load", () => resolve(image.naturalWidth > 0), { once: true });
            image.addEventListener("error", () => resolve(false), { once: true });
          }),
    );
}
