import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { baselineWorkerSettings, scrubDeveloperEnvironment } from "./dev/test/support/hermetic.ts";
import { wasmPlaceholders } from "./dev/wasm-placeholders.ts";

// Tests are hermetic: nothing a developer exported reaches them or the processes they start.
scrubDeveloperEnvironment();
const WORKER_SETTINGS = baselineWorkerSettings(unstable_readConfig({ config: "./wrangler.toml" }).vars);

export default defineConfig({
  test: {
    // At the root, not in the worker project, so it loads with Node's module resolution
    // rather than the workerd conditions the Cloudflare plugin sets.
    globalSetup: ["./dev/test/global-setup.ts"],
    // Lists every skipped test with its reason; in CI a skip fails the run.
    reporters: ["default", "./dev/test/skip-report.ts"],
    // Every request of the Worker writes a log line (middleware/request-log.ts); tests that care spy on it.
    onConsoleLog: (log) => !log.startsWith('{"message":"request"'),
    projects: [
      {
        // Worker tests run inside workerd against the real PostgreSQL and S3 server of the global setup.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                // Over whatever a developer's .dev.vars holds: see baselineWorkerSettings.
                ...WORKER_SETTINGS,
                ...inject("workerVars"),
                DEAD_PORT: String(inject("deadPort")),
                GEMINI_BASE_URL: inject("geminiUrl"),
                // Not STRIPE_*: the billing export stays off unless a test turns it on.
                STRIPE_FAKE_URL: inject("stripeUrl"),
                STRIPE_FAKE_SECRET_KEY: inject("stripeSecretKey"),
                WEBHOOK_RECEIVER_URL: inject("webhookReceiverUrl"),
                ISOLATED_DATABASE_URLS: inject("isolatedDatabaseUrls"),
                PAUSABLE_STACK_URL: inject("pausableStackUrl"),
                ROUND_TRIPS_URL: inject("roundTripsUrl"),
              },
              r2Buckets: ["IMAGES_BUCKET"],
              // Queued generations are delivered at once rather than after wrangler.toml's batch timeout.
              queueConsumers: {
                "banatie-generations": { maxBatchTimeout: 0.05 },
                "banatie-generations-dlq": { maxBatchTimeout: 0.05 },
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["worker/test/**/*.test.ts"],
          exclude: ["worker/test/**/*.node.test.ts"],
        },
      },
      {
        // The local tooling (dev stack, migrations, Gemini fake) runs in Node, as it does for people.
        // The Worker's WASM codecs are never called here (only its route definitions are read), so
        // their modules load as placeholders instead of Workers-style compiled modules.
        plugins: [wasmPlaceholders()],
        test: {
          name: "tooling",
          include: ["dev/test/**/*.test.ts", "worker/test/**/*.node.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The site in Debian's Chromium against the full platform (wrangler dev included) that its
        // own global setup starts. A group order of its own keeps it from running alongside the
        // other projects, so they do not share the 2 cores.
        test: {
          name: "browser",
          include: ["site/test/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./site/test/global-setup.ts"],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
