import { describe, expect, it } from "vitest";
/**
 * The v1 guide holds its requests and answers to the API: its curl commands run as written, in
 * order, on one project, and each gets the answer the guide shows after it.
 */
import guide from "../../site/src/pages/docs/v1.md?raw";
import { callApp } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { ExampleIds, exported, guideSteps, runGuideSteps } from "./support/guide-curl";
import { imageFile } from "./support/images";

/** The organization and project slugs the guide's URLs show, standing for the caller's. */
const EXAMPLE_SLUGS = "/acme/storefront/";
const TEST_ORIGIN = "http://banatie.test";

/** The files the guide's commands upload (`-F file=@name`). */
const FIXTURES: Record<string, () => Promise<Uint8Array>> = {
  "logo.png": () => imageFile("png", 256, 256),
};

describe("the v1 guide (site/src/pages/docs/v1.md)", () => {
  it("shows Banatie's examples: an upload with an alias, references by alias, and a flow continued with @last", () => {
    const commands = guideSteps(guide).map(({ command }) => `${command.text}\n${command.stdin ?? ""}`);
    expect(commands.some((text) => text.includes('-F "file=@logo.png" --form-string "alias=@brand-logo"'))).toBe(true);
    expect(commands.some((text) => text.includes('"referenceImages":["@brand-logo"]'))).toBe(true);
    expect(commands.some((text) => /"flowId": "\$FLOW_ID", "referenceImages": \["@last"\]/.test(text))).toBe(true);
  });

  it("runs every request as written, in order, and each gets the answer shown", async () => {
    const { scope, key } = await freshProjectKey();
    const slugs = `/${scope.organization.slug}/${scope.project.slug}/`;
    const ids = new ExampleIds([
      [exported(guide, "BANATIE_URL"), TEST_ORIGIN],
      [EXAMPLE_SLUGS, slugs],
    ]);
    // The setup block's values are the reader's own: here, the test Worker and a fresh project's key.
    const own = new Map([
      ["BANATIE_URL", TEST_ORIGIN],
      ["BANATIE_API_KEY", key.key],
    ]);
    const steps = guideSteps(guide);
    expect(steps.filter(({ command }) => command.text.startsWith("curl")).length).toBeGreaterThanOrEqual(15);
    await runGuideSteps(steps, {
      own,
      ids,
      urlOf: (url) => url.replace(EXAMPLE_SLUGS, slugs),
      fixtures: FIXTURES,
      send: (url, init) => callApp(url, init),
    });
  });
});
