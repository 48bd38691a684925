import type { TestProject } from "vitest/node";
import { type GeminiFake, startGeminiFake } from "../gemini-fake/server.ts";
import { type Stack, startStack } from "../stack/index.ts";
import { applyMigrations, ensureDatabase } from "../stack/migrations.ts";
import { freePort } from "../stack/ports.ts";
import { localPostgresUrl } from "../stack/postgres.ts";
import { type StripeFake, startStripeFake } from "../stripe-fake/server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../webhook-receiver/server.ts";
import { type PausableStackControl, startPausableStackControl } from "./support/pausable-stack.ts";
import { ROUND_TRIP_DATABASE, type RoundTripLog, startRoundTripLog } from "./support/round-trip-log.ts";
import { tempDir } from "./support/temp-dir.ts";

declare module "vitest" {
  export interface ProvidedContext {
    workerVars: Record<string, string>;
    /** A loopback port where nothing listens: a stopped PostgreSQL or S3 server looks like this. */
    deadPort: number;
    geminiUrl: string;
    /** The Stripe-protocol fake (dev/stripe-fake), and the secret key it accepts. */
    stripeUrl: string;
    stripeSecretKey: string;
    /** The webhook receiver (dev/webhook-receiver) on 127.0.0.1. */
    webhookReceiverUrl: string;
    /** Migrated databases of their own, for tests that need a platform with no keys at all. */
    isolatedDatabaseUrls: Record<string, string>;
    /** Control of a PostgreSQL and S3 server of their own that tests may pause (see pausable-stack.ts). */
    pausableStackUrl: string;
    /** What the stack's database and storage servers were asked (see round-trip-log.ts). */
    roundTripsUrl: string;
  }
}

/** One database per test file that must start from an empty platform. */
const ISOLATED_DATABASES = ["bootstrap", "bootstrap_dev", "master_keys", "log_privacy", ROUND_TRIP_DATABASE];

/** What the Worker under test (ENVIRONMENT test) needs to create the first master key. */
const BOOTSTRAP_TOKEN = "test-bootstrap-token-0123456789abcdef";

/** The only key the Stripe-protocol fake accepts. */
const STRIPE_SECRET_KEY = "sk_test_banatie_fake_0123456789";

let stack: Stack | undefined;
let gemini: GeminiFake | undefined;
let stripe: StripeFake | undefined;
let receiver: WebhookReceiver | undefined;
let pausable: PausableStackControl | undefined;
let roundTrips: RoundTripLog | undefined;
let dataDir: Awaited<ReturnType<typeof tempDir>> | undefined;

/**
 * Starts throwaway PostgreSQL (migrated), the Neon WebSocket proxy and SQL-over-HTTP server, the
 * S3-protocol server, the Gemini-protocol fake, the Stripe-protocol fake and a webhook receiver on free ports for the Worker tests, and removes
 * them afterwards.
 */
export async function setup(project: TestProject) {
  dataDir = await tempDir("test");
  const log = await startRoundTripLog();
  roundTrips = log;
  [stack, gemini, stripe, pausable, receiver] = await Promise.all([
    startStack({
      dataDir: dataDir.path,
      ports: { postgres: 0, wsProxy: 0, s3: 0 },
      persistent: false,
      proxyAnyLoopbackPort: true,
      observeDatabaseRequest: log.observeDatabaseRequest,
      observeStorageRequest: log.observeStorageRequest,
      observeDatabaseClient: log.observeDatabaseClient,
      databaseLatencyMs: log.latencyMs,
    }),
    startGeminiFake({ apiKey: "test-gemini-key" }),
    startStripeFake({ secretKey: STRIPE_SECRET_KEY }),
    startPausableStackControl(),
    startWebhookReceiver(),
  ]);
  project.provide("workerVars", { ...stack.workerVars, ENVIRONMENT: "test", BOOTSTRAP_TOKEN });
  const isolated: Record<string, string> = {};
  for (const name of ISOLATED_DATABASES) {
    const url = localPostgresUrl(stack.postgres.port, name);
    await ensureDatabase(url, stack.workerVars.DATABASE_WS_PROXY);
    await applyMigrations(url, stack.workerVars.DATABASE_WS_PROXY);
    isolated[name] = url;
  }
  project.provide("isolatedDatabaseUrls", isolated);
  project.provide("deadPort", await freePort());
  project.provide("geminiUrl", gemini.url);
  project.provide("stripeUrl", stripe.url);
  project.provide("stripeSecretKey", STRIPE_SECRET_KEY);
  project.provide("webhookReceiverUrl", receiver.url);
  project.provide("pausableStackUrl", pausable.url);
  project.provide("roundTripsUrl", log.url);
}

export async function teardown() {
  await Promise.all([stack?.stop(), gemini?.stop(), stripe?.stop(), pausable?.stop(), roundTrips?.stop(), receiver?.stop()]);
  await dataDir?.remove();
}
