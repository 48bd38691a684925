import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { ROOT } from "../stack/settings.ts";

function rawConfig(file: string) {
  return experimental_readRawConfig({ config: path.join(ROOT, file) }).rawConfig;
}

/** The configuration wrangler deploys for `--env <env>`: the environment over what it inherits. */
function deployedConfig(file: string, env?: string) {
  return unstable_readConfig({ config: path.join(ROOT, file), env });
}

function limiter(config: { ratelimits: { name: string; namespace_id: string }[] }, name = "PUBLIC_IP_LIMITER") {
  return config.ratelimits.find((entry) => entry.name === name);
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
    const limiterOf = (config: typeof api) =>
      (config.ratelimits as { name: string }[] | undefined)?.find((entry) => entry.name === "PUBLIC_IP_LIMITER");
    expect(limiterOf(api)).toBeDefined();
    expect(limiterOf(delivery)).toEqual(limiterOf(api));
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

  it("keeps Workers Logs on", () => {
    expect(rawConfig(file).observability).toMatchObject({ enabled: true });
  });
});

const ENVIRONMENTS = ["staging", "production"] as const;

/** The agreed public hosts of each deployed environment. */
const HOSTS = {
  staging: { api: "api-staging.banatie.app", cdn: "cdn-staging.banatie.app" },
  production: { api: "api.banatie.app", cdn: "cdn.banatie.app" },
} as const;

/**
 * Wrangler inherits neither [vars] nor bindings into an environment: each deployed environment
 * must repeat them, and the two Workers of one environment must agree on what they share.
 */
describe.each(ENVIRONMENTS)("the %s environment", (env) => {
  const api = deployedConfig("wrangler.toml", env);
  const delivery = deployedConfig("wrangler.delivery.toml", env);
  const local = { api: deployedConfig("wrangler.toml"), delivery: deployedConfig("wrangler.delivery.toml") };
  const other = deployedConfig("wrangler.toml", ENVIRONMENTS.find((name) => name !== env) as string);

  it("deploys two Workers of its own, named after it", () => {
    expect(api.name).toBe(`banatie-${env}`);
    expect(delivery.name).toBe(`banatie-delivery-${env}`);
  });

  it("runs both Workers on the same runtime, variables, bucket and per-client limit", () => {
    expect(delivery.compatibility_date).toBe(api.compatibility_date);
    expect(delivery.compatibility_flags).toEqual(api.compatibility_flags);
    expect(delivery.vars).toEqual(api.vars);
    expect(delivery.r2_buckets).toEqual(api.r2_buckets);
    expect(limiter(api)).toBeDefined();
    expect(limiter(delivery)).toEqual(limiter(api));
  });

  it("declares every binding and variable of the local configuration", () => {
    for (const [worker, config] of [
      ["api", api],
      ["delivery", delivery],
    ] as const) {
      const names = (entries: { name?: string; binding?: string }[]) =>
        entries.map((entry) => entry.name ?? entry.binding).sort();
      expect(names(config.ratelimits), worker).toEqual(names(local[worker].ratelimits));
      expect(names(config.r2_buckets), worker).toEqual(names(local[worker].r2_buckets));
      expect(Object.keys(config.vars), worker).toEqual(expect.arrayContaining(Object.keys(local[worker].vars)));
    }
  });

  it("names itself, its public hosts and its own R2 bucket", () => {
    expect(api.vars).toMatchObject({
      ENVIRONMENT: env,
      STORAGE_DRIVER: "r2",
      PUBLIC_BASE_URL: `https://${HOSTS[env].api}`,
      PUBLIC_CDN_URL: `https://${HOSTS[env].cdn}`,
    });
    const bucket = api.r2_buckets.find((entry: { binding: string }) => entry.binding === "IMAGES_BUCKET")?.bucket_name;
    expect(bucket).toBeDefined();
    expect(bucket).not.toBe(other.r2_buckets[0]?.bucket_name);
    expect(bucket).not.toBe(local.api.r2_buckets[0]?.bucket_name);
  });

  it("counts its rate limits apart from the other environment and from local development", () => {
    for (const name of ["KEY_BURST_LIMITER", "AUTH_FAILURE_LIMITER", "PUBLIC_IP_LIMITER"]) {
      const namespace = limiter(api, name)?.namespace_id;
      expect(namespace, name).toBeDefined();
      expect(namespace, name).not.toBe(limiter(other, name)?.namespace_id);
      expect(namespace, name).not.toBe(limiter(local.api, name)?.namespace_id);
    }
  });

  it("serves the API on its api host and images on its cdn host, on custom domains only", () => {
    expect(api.routes).toEqual([{ pattern: HOSTS[env].api, custom_domain: true }]);
    expect(delivery.routes).toEqual([{ pattern: HOSTS[env].cdn, custom_domain: true }]);
    for (const config of [api, delivery]) {
      expect(config.workers_dev, config.name).toBe(false);
      expect(config.preview_urls, config.name).toBe(false);
    }
  });

  it("keeps Workers Logs on for both Workers", () => {
    expect(api.observability).toMatchObject({ enabled: true });
    expect(delivery.observability).toMatchObject({ enabled: true });
  });

  it("runs scheduled maintenance every 15 minutes, on the API Worker only", () => {
    expect(api.triggers.crons).toEqual(["*/15 * * * *"]);
    expect(delivery.triggers.crons ?? []).toEqual([]);
  });
});
