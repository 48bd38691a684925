import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { eq, inArray, sql } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { loadConfig } from "../src/config";
import { billingExports, organizations, usageEvents } from "../src/db/schema";
import { STRIPE_REJECTIONS_PER_RUN } from "../src/domain/limits";
import worker from "../src/index";
import { createStripeMeterEvents } from "../src/providers/stripe/meter-events";
import { exportUsageToStripe } from "../src/services/billing/stripe-export";
import { recordUsage } from "../src/services/usage";
import { api, readProblem, testEnv } from "./support/app";
import { createProject, insertKey, type TestKey, type TestProject, withDb } from "./support/fixtures";
import { GEMINI_ENV, marker } from "./support/generation";

/**
 * The billing export (issue 16, item 6), run as the cron runs it: the Worker's scheduled handler,
 * against the real PostgreSQL and the Stripe-protocol fake of the global setup (dev/stripe-fake).
 * Every tenant here has a Stripe customer id of its own, so each test reads only its own meter
 * events from the fake; no other test file turns the export on.
 */
const fake = (testEnv as unknown as { STRIPE_FAKE_URL: string }).STRIPE_FAKE_URL;
const STRIPE_ON = {
  STRIPE_SECRET_KEY: (testEnv as unknown as { STRIPE_FAKE_SECRET_KEY: string }).STRIPE_FAKE_SECRET_KEY,
  STRIPE_METER_EVENT_NAME: "banatie_usage_usd_micros",
  STRIPE_API_BASE: fake,
};
const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;

interface StripeMeterEvent {
  identifier: string;
  event_name: string;
  payload: Record<string, string>;
  timestamp: number;
}

interface StripeRequest {
  identifier?: string;
  idempotencyKey?: string;
  status: number | "dropped";
}

interface JobLine {
  message: "maintenance";
  job: string;
  [count: string]: unknown;
}

interface Tenant {
  scope: TestProject;
  key: TestKey;
  customer: string | null;
}

let logged: string[];
let errors: string[];
let spies: MockInstance[];

beforeAll(async () => {
  await fetch(`${fake}/__fake/reset`, { method: "POST" }).then((response) => response.body?.cancel());
});

beforeEach(() => {
  logged = [];
  errors = [];
  spies = [
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))),
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args.map(String).join(" "))),
  ];
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

/** An organization with a Stripe customer id (or none), a project and a key. */
async function tenant(options: { customer?: boolean } = {}): Promise<Tenant> {
  const customer = options.customer === false ? null : `cus_test${crypto.randomUUID().replaceAll("-", "").slice(0, 14)}`;
  return withDb(async (db) => {
    const scope = await createProject(db);
    await db.update(organizations).set({ stripeCustomerId: customer }).where(eq(organizations.id, scope.organization.id));
    return { scope, key: await insertKey(db, { type: "project", scope }), customer };
  });
}

/**
 * A usage event of the tenant, recorded as a generation records it while the export is on:
 * billed events are queued for the export in the same batch.
 */
async function usage(
  { scope, key }: Tenant,
  options: { costUsdMicros?: number | null; billable?: boolean; at?: Date; kind?: "generation" | "enhancement" } = {},
): Promise<{ id: string; createdAt: Date }> {
  const id = crypto.randomUUID();
  const createdAt = options.at ?? new Date(Date.now() - 10 * MINUTE);
  await withDb((db) =>
    recordUsage(
      db,
      [
        {
          id,
          organizationId: scope.organization.id,
          projectId: scope.project.id,
          apiKeyId: key.id,
          kind: options.kind ?? "generation",
          provider: "gemini",
          model: "gemini-2.5-flash-image",
          outputImageTokens: 1290,
          costUsdMicros: options.costUsdMicros === undefined ? 38_700 : options.costUsdMicros,
          priceVersion: "2025-10-01",
          billable: options.billable ?? true,
          createdAt,
        },
      ],
      { queueForBilling: true },
    ),
  );
  return { id, createdAt };
}

/** Runs the Worker's scheduled handler once and returns the billing export's log line. */
async function runExport(overrides: Record<string, unknown> = STRIPE_ON): Promise<JobLine> {
  const before = logged.length;
  const controller = createScheduledController({ scheduledTime: new Date(), cron: "*/15 * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, { ...testEnv, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  const lines = logged
    .slice(before)
    .map((line) => JSON.parse(line) as JobLine)
    .filter((line) => line.message === "maintenance" && line.job === "export-usage-to-stripe");
  expect(lines).toHaveLength(1);
  return lines[0] as JobLine;
}

/** The meter events Stripe (the fake) holds for a customer. */
async function meterEventsAtStripe(customer: string | null): Promise<StripeMeterEvent[]> {
  const response = await fetch(`${fake}/__fake/meter-events?customer=${customer}`);
  return (await response.json()) as StripeMeterEvent[];
}

/** Every request Stripe (the fake) received for these usage events. */
async function requestsFor(ids: string[]): Promise<StripeRequest[]> {
  const all = (await (await fetch(`${fake}/__fake/requests`)).json()) as StripeRequest[];
  return all.filter((request) => request.identifier && ids.includes(request.identifier));
}

async function requestCount(): Promise<number> {
  return ((await (await fetch(`${fake}/__fake/requests`)).json()) as StripeRequest[]).length;
}

/** Makes Stripe (the fake) fail its next `count` meter event requests. */
async function failNext(count: number, failure: { mode: "drop" } | { mode: "status"; status: number }): Promise<void> {
  const response = await fetch(`${fake}/__fake/fail`, { method: "POST", body: JSON.stringify({ count, ...failure }) });
  await response.body?.cancel();
}

async function queueRows(ids: string[]) {
  return withDb((db) => db.select().from(billingExports).where(inArray(billingExports.usageEventId, ids)));
}

/** What Stripe's answers (or its age limit) settled for these usage events; events still queued are left out. */
async function exportsOf(ids: string[]) {
  const settled = (await queueRows(ids)).filter((row) => row.outcome !== "pending");
  return Object.fromEntries(
    settled.map((row) => [row.usageEventId, { outcome: row.outcome, stripeCustomerId: row.stripeCustomerId }]),
  );
}

/** The usage events among `ids` queued for the export and not sent yet. */
async function pendingOf(ids: string[]): Promise<string[]> {
  return (await queueRows(ids))
    .filter((row) => row.outcome === "pending")
    .map((row) => row.usageEventId)
    .sort();
}

describe("billing export to Stripe: off unless configured", () => {
  it("reports itself skipped and calls Stripe for nothing without STRIPE_SECRET_KEY and a meter name", async () => {
    const owner = await tenant();
    const event = await usage(owner);
    const before = await requestCount();

    const line = await runExport({});

    expect(line).toMatchObject({ skipped: 1 });
    expect(await requestCount()).toBe(before);
    expect(await exportsOf([event.id])).toEqual({});
    expect(await pendingOf([event.id])).toEqual([event.id]);
  });
});

describe("billing export to Stripe: what a generation queues", () => {
  /** The usage events a generation recorded (its enhancement and its image), and those billed. */
  async function eventsOf(generationId: string): Promise<{ all: string[]; billed: string[] }> {
    const rows = await withDb((db) =>
      db
        .select({ id: usageEvents.id, billable: usageEvents.billable, cost: usageEvents.costUsdMicros })
        .from(usageEvents)
        .where(eq(usageEvents.generationId, generationId)),
    );
    const ids = (filtered: typeof rows) => filtered.map((row) => row.id).sort();
    return { all: ids(rows), billed: ids(rows.filter((row) => row.billable && (row.cost ?? 0) > 0)) };
  }

  async function generate(owner: Tenant, env: Record<string, string>): Promise<string> {
    const response = await api("/api/text-to-image", {
      key: owner.key.key,
      body: { prompt: `a kite over the dunes ${marker()}`, autoEnhance: true },
      env: { ...GEMINI_ENV, ...env },
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { generationId: string } }).data.generationId;
  }

  it("queues a generation's billed calls in the transaction that records them while the export is on, and nothing while it is off", async () => {
    const owner = await tenant();
    const whileOn = await eventsOf(await generate(owner, STRIPE_ON));
    const whileOff = await eventsOf(await generate(owner, {}));
    expect(whileOn.all).toHaveLength(2);
    expect(whileOn.billed.length).toBeGreaterThanOrEqual(1);
    expect(whileOff.billed.length).toBeGreaterThanOrEqual(1);

    expect(await pendingOf([...whileOn.all, ...whileOff.all])).toEqual(whileOn.billed);

    await runExport();
    expect((await meterEventsAtStripe(owner.customer)).map((event) => event.identifier).sort()).toEqual(whileOn.billed);
    expect(await pendingOf([...whileOn.all, ...whileOff.all])).toEqual([]);
  });
});

describe("billing export to Stripe", () => {
  it("sends each billable event once: its cost in USD micros, for its organization's customer, identified by its id", async () => {
    const owner = await tenant();
    const image = await usage(owner, { costUsdMicros: 38_700 });
    const enhancement = await usage(owner, { costUsdMicros: 1_234, kind: "enhancement" });
    const blocked = await usage(owner, { costUsdMicros: 38_700, billable: false });
    const cached = await usage(owner, { costUsdMicros: 0 });
    const unpriced = await usage(owner, { costUsdMicros: null });
    // Only what is billed is queued for the export.
    expect(await pendingOf([image.id, enhancement.id, blocked.id, cached.id, unpriced.id])).toEqual(
      [image.id, enhancement.id].sort(),
    );

    const line = await runExport();

    expect(errors).toEqual([]);
    expect(line.sent).toBeGreaterThanOrEqual(2);
    const atStripe = await meterEventsAtStripe(owner.customer);
    expect(atStripe.sort((a, b) => a.payload.value?.localeCompare(b.payload.value ?? "") ?? 0)).toEqual([
      {
        identifier: enhancement.id,
        event_name: STRIPE_ON.STRIPE_METER_EVENT_NAME,
        payload: { stripe_customer_id: owner.customer, value: "1234" },
        timestamp: Math.floor(enhancement.createdAt.getTime() / 1000),
        created: expect.any(Number),
      },
      {
        identifier: image.id,
        event_name: STRIPE_ON.STRIPE_METER_EVENT_NAME,
        payload: { stripe_customer_id: owner.customer, value: "38700" },
        timestamp: Math.floor(image.createdAt.getTime() / 1000),
        created: expect.any(Number),
      },
    ]);
    expect(await exportsOf([image.id, enhancement.id, blocked.id, cached.id, unpriced.id])).toEqual({
      [image.id]: { outcome: "sent", stripeCustomerId: owner.customer },
      [enhancement.id]: { outcome: "sent", stripeCustomerId: owner.customer },
    });

    // A second run finds nothing more to send for them.
    await runExport();
    expect(await meterEventsAtStripe(owner.customer)).toHaveLength(2);
    expect(await requestsFor([image.id, enhancement.id, blocked.id, cached.id, unpriced.id])).toHaveLength(2);
  });

  it("retries a lost answer under the same idempotency key: Stripe replays it, and the event is billed once", async () => {
    const owner = await tenant();
    const event = await usage(owner);
    await failNext(1, { mode: "drop" });

    const line = await runExport();

    expect(line).toMatchObject({ unsent: 0 });
    expect(await exportsOf([event.id])).toEqual({ [event.id]: { outcome: "sent", stripeCustomerId: owner.customer } });
    expect(await meterEventsAtStripe(owner.customer)).toHaveLength(1);
    const requests = await requestsFor([event.id]);
    expect(requests.map((request) => request.status)).toEqual(["dropped", 200]);
    expect(new Set(requests.map((request) => request.idempotencyKey)).size).toBe(1);
  });

  it("after a run whose answers were all lost, the next run's resend is refused as a duplicate and marks the event sent, billed once", async () => {
    const owner = await tenant();
    const event = await usage(owner);
    await failNext(3, { mode: "drop" });

    const lost = await runExport();

    // Stripe took the event, but the run never heard so: the event stays unsent.
    expect(lost).toMatchObject({ sent: 0, unsent: 1 });
    expect(await exportsOf([event.id])).toEqual({});
    expect(await meterEventsAtStripe(owner.customer)).toHaveLength(1);
    expect(errors.map((line) => JSON.parse(line).message)).toEqual([
      "billing export stopped: Stripe is unavailable; the next run sends the rest",
    ]);

    const resent = await runExport();

    expect(resent).toMatchObject({ alreadySent: 1 });
    expect(await exportsOf([event.id])).toEqual({ [event.id]: { outcome: "already-sent", stripeCustomerId: owner.customer } });
    expect(await meterEventsAtStripe(owner.customer)).toHaveLength(1);

    await runExport();
    expect(await requestsFor([event.id])).toHaveLength(4);
    expect(await meterEventsAtStripe(owner.customer)).toHaveLength(1);
  });

  it("leaves everything unsent through a Stripe outage, and a later run sends it", async () => {
    const owner = await tenant();
    const first = await usage(owner, { at: new Date(Date.now() - 12 * MINUTE) });
    const second = await usage(owner, { at: new Date(Date.now() - 11 * MINUTE) });
    await failNext(3, { mode: "status", status: 503 });

    const during = await runExport();

    expect(during).toMatchObject({ sent: 0, unsent: 2 });
    expect(await exportsOf([first.id, second.id])).toEqual({});
    expect(await meterEventsAtStripe(owner.customer)).toEqual([]);
    // Three attempts for the oldest event, then the run stops rather than hammer Stripe.
    expect((await requestsFor([first.id, second.id])).map((request) => request.status)).toEqual([503, 503, 503]);

    const after = await runExport();

    expect(after).toMatchObject({ unsent: 0 });
    expect(Object.keys(await exportsOf([first.id, second.id])).sort()).toEqual([first.id, second.id].sort());
    expect((await meterEventsAtStripe(owner.customer)).map((event) => event.identifier)).toEqual([first.id, second.id]);
  });

  it("stops at once with a clear log line when Stripe refuses the secret key, and sends nothing", async () => {
    const owner = await tenant();
    const event = await usage(owner);

    const line = await runExport({ ...STRIPE_ON, STRIPE_SECRET_KEY: "sk_test_revoked_key" });

    expect(line).toMatchObject({ sent: 0 });
    expect(line.unsent).toBeGreaterThanOrEqual(1);
    expect(await requestsFor([event.id])).toEqual([expect.objectContaining({ status: 401 })]);
    const failure = JSON.parse(errors[0] ?? "{}") as Record<string, string>;
    expect(failure.message).toBe("billing export stopped: Stripe refused STRIPE_SECRET_KEY; set a valid secret key");
    expect(errors.join("\n")).not.toContain("sk_test_revoked_key");
    expect(await exportsOf([event.id])).toEqual({});

    await runExport();
    expect(await exportsOf([event.id])).toEqual({ [event.id]: { outcome: "sent", stripeCustomerId: owner.customer } });
  });

  it("logs an event Stripe refuses and leaves it unsent, sends the others, and tries it again next run", async () => {
    const owner = await tenant();
    const refused = await usage(owner, { at: new Date(Date.now() - 12 * MINUTE) });
    const next = await usage(owner, { at: new Date(Date.now() - 11 * MINUTE) });
    await failNext(1, { mode: "status", status: 400 });

    const line = await runExport();

    expect(line).toMatchObject({ rejected: 1, unsent: 0 });
    expect(Object.keys(await exportsOf([refused.id, next.id]))).toEqual([next.id]);
    // A 400 is not retried: the same request would be refused again.
    expect((await requestsFor([refused.id])).map((request) => request.status)).toEqual([400]);
    const failure = JSON.parse(errors[0] ?? "{}") as Record<string, string>;
    expect(failure).toMatchObject({ message: "Stripe refused a meter event; it stays unsent", usageEventId: refused.id });

    await runExport();
    expect(Object.keys(await exportsOf([refused.id, next.id])).sort()).toEqual([refused.id, next.id].sort());
  });

  it("stops a run that Stripe refuses event after event, as a bad meter name would have it", async () => {
    const owner = await tenant();
    const events = [];
    for (let i = 0; i <= STRIPE_REJECTIONS_PER_RUN; i++) {
      events.push(await usage(owner, { at: new Date(Date.now() - 20 * MINUTE + i * 1000) }));
    }
    const ids = events.map((event) => event.id);
    await failNext(STRIPE_REJECTIONS_PER_RUN + 1, { mode: "status", status: 400 });

    const line = await runExport();

    expect(line).toMatchObject({ rejected: STRIPE_REJECTIONS_PER_RUN, unsent: 1 });
    expect(await requestsFor(ids)).toHaveLength(STRIPE_REJECTIONS_PER_RUN);
    expect(JSON.parse(errors.at(-1) ?? "{}").message).toBe(
      `billing export stopped: Stripe refused ${STRIPE_REJECTIONS_PER_RUN} events; check STRIPE_METER_EVENT_NAME and the organizations' Stripe customer ids`,
    );
    await failNext(0, { mode: "status", status: 400 });

    await runExport();
    expect(Object.keys(await exportsOf(ids))).toHaveLength(ids.length);
  });

  it("keeps the usage of an organization without a Stripe customer id unsent, and counts it", async () => {
    const owner = await tenant({ customer: false });
    const event = await usage(owner);

    const line = await runExport();

    expect(line.noCustomer).toBeGreaterThanOrEqual(1);
    expect(await requestsFor([event.id])).toEqual([]);
    expect(await exportsOf([event.id])).toEqual({});
  });

  it("sends an organization's waiting usage once a master key gives it a Stripe customer id", async () => {
    const owner = await tenant({ customer: false });
    const event = await usage(owner);
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const customer = `cus_testLate${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
    const path = `/api/admin/organizations/${owner.scope.organization.id}`;

    const projectKey = await api(path, { method: "PATCH", key: owner.key.key, body: { stripeCustomerId: customer } });
    expect(projectKey.status).toBe(403);
    await projectKey.body?.cancel();
    const notACustomer = await api(path, { method: "PATCH", key: master.key, body: { stripeCustomerId: "acct_1" } });
    expect(notACustomer.status).toBe(400);
    expect((await readProblem(notACustomer)).errors?.map((error) => error.field)).toEqual(["stripeCustomerId"]);
    const unknown = await api(`/api/admin/organizations/${crypto.randomUUID()}`, {
      method: "PATCH",
      key: master.key,
      body: { stripeCustomerId: customer },
    });
    expect((await readProblem(unknown)).code).toBe("ORGANIZATION_NOT_FOUND");
    await runExport();
    expect(await requestsFor([event.id])).toEqual([]);

    const set = await api(path, { method: "PATCH", key: master.key, body: { stripeCustomerId: customer } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({
      success: true,
      data: { id: owner.scope.organization.id, slug: owner.scope.organization.slug, stripeCustomerId: customer },
    });
    const audited = await withDb((db) =>
      db.execute<{ n: number }>(
        sql`select count(*)::int as n from audit_events where action = 'organization.updated' and target_id = ${owner.scope.organization.id}`,
      ),
    );
    expect(audited.rows[0]?.n).toBe(1);

    await runExport();

    expect(await exportsOf([event.id])).toEqual({ [event.id]: { outcome: "sent", stripeCustomerId: customer } });
    expect((await meterEventsAtStripe(customer)).map((sent) => sent.identifier)).toEqual([event.id]);
  });

  it("marks an event older than Stripe takes as too old, and never sends it", async () => {
    const owner = await tenant();
    const event = await usage(owner, { at: new Date(Date.now() - 40 * DAY) });

    const line = await runExport();

    expect(line.tooOld).toBeGreaterThanOrEqual(1);
    expect(await exportsOf([event.id])).toEqual({ [event.id]: { outcome: "too-old", stripeCustomerId: null } });
    expect(await requestsFor([event.id])).toEqual([]);
  });

  it("sends at most the per-run limit, oldest first, and the next run sends the rest", async () => {
    const owner = await tenant();
    // Older than any other test's events, so a run reaches them first.
    const base = Date.now() - 30 * DAY;
    const events = [
      await usage(owner, { at: new Date(base) }),
      await usage(owner, { at: new Date(base + MINUTE) }),
      await usage(owner, { at: new Date(base + 2 * MINUTE) }),
    ];
    const ids = events.map((event) => event.id);
    const config = loadConfig({ ...testEnv, ...STRIPE_ON } as Env);
    const run = () =>
      withDb((db) =>
        exportUsageToStripe(db, createStripeMeterEvents(config.stripe as NonNullable<typeof config.stripe>), {
          sendableAfter: new Date(Date.now() - 34 * DAY),
          limit: 2,
        }),
      );

    expect(await run()).toMatchObject({ sent: 2 });
    expect(Object.keys(await exportsOf(ids)).sort()).toEqual(ids.slice(0, 2).sort());

    expect(await run()).toMatchObject({ sent: 1 });
    expect(Object.keys(await exportsOf(ids)).sort()).toEqual([...ids].sort());
    expect((await meterEventsAtStripe(owner.customer)).map((event) => event.identifier)).toEqual(ids);
  });
});
