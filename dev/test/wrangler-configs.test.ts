import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig } from "wrangler";
import { ROOT } from "../stack/settings.ts";

function rawConfig(file: string) {
  return experimental_readRawConfig({ config: path.join(ROOT, file) }).rawConfig;
}

/**
 * The image delivery Worker serves what the API Worker stored, with the same code: a runtime,
 * variable or storage binding that drifts between the two configurations would make the same
 * image URL behave differently depending on which Worker a route sends it to.
 */
describe("wrangler.delivery.toml", () => {
  const api = rawConfig("wrangler.toml");
  const delivery = rawConfig("wrangler.delivery.toml");

  it("runs on the same runtime, variables and storage as the API Worker", () => {
    expect(delivery.compatibility_date).toBe(api.compatibility_date);
    expect(delivery.compatibility_flags).toEqual(api.compatibility_flags);
    expect(delivery.vars).toEqual(api.vars);
    expect(delivery.r2_buckets).toEqual(api.r2_buckets);
  });

  it("is a Worker of its own, without the site's assets, whose entry exists", () => {
    expect(delivery.name).not.toBe(api.name);
    expect(delivery.assets).toBeUndefined();
    expect(delivery.main).toBe("worker/src/delivery-worker.ts");
    expect(existsSync(path.join(ROOT, delivery.main as string))).toBe(true);
  });

  it("shares the per-client limit on public work with the API Worker", () => {
    const limiter = (config: typeof api) =>
      (config.ratelimits as { name: string }[] | undefined)?.find((entry) => entry.name === "PUBLIC_IP_LIMITER");
    expect(limiter(api)).toBeDefined();
    expect(limiter(delivery)).toEqual(limiter(api));
  });
});

/**
 * The Cache API does nothing on workers.dev and preview URLs, so images served there would reach
 * storage and the database on every request: production is served on custom domains only.
 */
describe.each(["wrangler.toml", "wrangler.delivery.toml"])("%s", (file) => {
  it("turns off workers.dev and preview URLs", () => {
    const config = rawConfig(file);
    expect(config.workers_dev).toBe(false);
    expect(config.preview_urls).toBe(false);
  });
});
