import type { Page } from "playwright-core";

/**
 * Waits until a status region (see site/src/lib/status.ts) has finished, done or failed, and
 * returns how it ended with its text, so a failure shows the problem instead of a timeout.
 *
 * With `action`, the outcome must be a newer one than the region showed before the action ran
 * (the region counts its changes in data-seq): an earlier "done" or "error" still on screen is
 * never mistaken for the answer to this action.
 */
export async function settled(
  page: Page,
  selector: string,
  action?: () => Promise<unknown>,
): Promise<{ state: string; text: string }> {
  const region = page.locator(selector);
  const before = action ? Number((await region.getAttribute("data-seq")) ?? 0) : -1;
  await action?.();
  const handle = await region.elementHandle();
  await page.waitForFunction(
    ([element, seq]) =>
      element instanceof HTMLElement &&
      Number(element.dataset.seq ?? 0) > seq &&
      (element.dataset.state === "done" || element.dataset.state === "error"),
    [handle, before] as const,
  );
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
