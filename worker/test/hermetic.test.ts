import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/**
 * What the test setup gives the Worker (vitest.config.ts: the local stack, the Gemini fake, the
 * Stripe fake's address and key (not as STRIPE_* settings: the billing export stays off), a dead
 * port, the bootstrap token of a non-development Worker, the control of the servers tests pause,
 * the log of what the database and storage servers were asked, the webhook receiver).
 */
const GIVEN = [
  "ENVIRONMENT",
  "DATABASE_URL",
  "DATABASE_WS_PROXY",
  "DATABASE_HTTP_ENDPOINT",
  "STORAGE_DRIVER",
  "S3_ENDPOINT",
  "S3_BUCKET",
  "S3_REGION",
  "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
  "URL_SIGNING_SECRET",
  "GEMINI_BASE_URL",
  "DEAD_PORT",
  "BOOTSTRAP_TOKEN",
  "PAUSABLE_STACK_URL",
  "ROUND_TRIPS_URL",
  "STRIPE_FAKE_URL",
  "STRIPE_FAKE_SECRET_KEY",
  "WEBHOOK_RECEIVER_URL",
];

describe("the Worker under test", () => {
  it("sees only the settings the tests give it, whatever a developer's .dev.vars or environment holds", () => {
    const settings = Object.fromEntries(
      Object.entries(env)
        .filter((entry): entry is [string, string] => typeof entry[1] === "string")
        // The test pool's own.
        .filter(([name]) => !name.startsWith("__VITEST_POOL_WORKERS_")),
    );
    // Anything else is blank, which the Worker reads as "not set": no GEMINI_API_KEY, so no real Gemini.
    const setByOthers = Object.keys(settings).filter((name) => !GIVEN.includes(name) && settings[name] !== "");
    expect(setByOthers).toEqual([]);
    expect(settings).toMatchObject({ ENVIRONMENT: "test", STORAGE_DRIVER: "s3" });
    // Every server it reaches is on this machine: the stack's and the fakes.
    for (const name of [
      "DATABASE_URL",
      "DATABASE_HTTP_ENDPOINT",
      "S3_ENDPOINT",
      "GEMINI_BASE_URL",
      "PAUSABLE_STACK_URL",
      "ROUND_TRIPS_URL",
      "STRIPE_FAKE_URL",
      "WEBHOOK_RECEIVER_URL",
    ])
      expect(new URL(settings[name] ?? "").hostname, name).toBe("127.0.0.1");
    expect(settings.DATABASE_WS_PROXY).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
