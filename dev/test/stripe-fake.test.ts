import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type StripeFake, startStripeFake } from "../stripe-fake/server.ts";

/**
 * The Stripe-protocol fake answers the meter events API as Stripe's documentation says it does:
 * the billing export's tests are only as good as that.
 */
const KEY = "sk_test_fake_tooling";
let fake: StripeFake;

beforeAll(async () => {
  fake = await startStripeFake({ secretKey: KEY });
});

afterAll(() => fake?.stop());

beforeEach(async () => {
  await fetch(`${fake.url}/__fake/reset`, { method: "POST" });
});

const now = () => Math.floor(Date.now() / 1000);

function meterEvent(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${fake.url}/v1/billing/meter_events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
}

const valid = (identifier: string) => ({
  event_name: "banatie_usage",
  identifier,
  timestamp: String(now() - 60),
  "payload[stripe_customer_id]": "cus_tooling",
  "payload[value]": "38700",
});

describe("Stripe-protocol fake", () => {
  it("records a valid meter event and answers with it, as Stripe does", async () => {
    const response = await meterEvent(valid("usage-1"));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      object: "billing.meter_event",
      identifier: "usage-1",
      event_name: "banatie_usage",
      payload: { stripe_customer_id: "cus_tooling", value: "38700" },
    });
    expect(fake.meterEvents.map((event) => event.identifier)).toEqual(["usage-1"]);
  });

  it("refuses a missing or wrong key with 401, recording nothing", async () => {
    const none = await fetch(`${fake.url}/v1/billing/meter_events`, { method: "POST", body: new URLSearchParams(valid("a")) });
    expect(none.status).toBe(401);
    const wrong = await meterEvent(valid("b"), { Authorization: "Bearer sk_test_other" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { type: "invalid_request_error", message: "Invalid API Key provided." } });
    expect(fake.meterEvents).toEqual([]);
  });

  it("checks the fields as Stripe does, naming the bad one in Stripe's error shape", async () => {
    const { "payload[stripe_customer_id]": _, ...withoutCustomer } = valid("c");
    const cases: [Record<string, string>, string, string | undefined][] = [
      [withoutCustomer, "payload[stripe_customer_id]", "parameter_missing"],
      [{ ...valid("d"), "payload[value]": "1.5" }, "payload[value]", "parameter_invalid_integer"],
      [{ ...valid("e"), timestamp: String(now() - 36 * 24 * 3600) }, "timestamp", undefined],
      [{ ...valid("f"), timestamp: String(now() + 600) }, "timestamp", undefined],
    ];
    for (const [fields, param, code] of cases) {
      const response = await meterEvent(fields);
      expect(response.status, param).toBe(400);
      const { error } = (await response.json()) as { error: Record<string, string> };
      expect(error).toMatchObject({ type: "invalid_request_error", param, ...(code ? { code } : {}) });
      expect(error.message).toEqual(expect.any(String));
    }
    expect(fake.meterEvents).toEqual([]);
  });

  it("refuses a second event with the same identifier, in Stripe's words, and keeps one", async () => {
    expect((await meterEvent(valid("dup"))).status).toBe(200);
    const again = await meterEvent(valid("dup"));
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({
      error: { type: "invalid_request_error", message: "An event already exists with identifier dup." },
    });
    expect(fake.meterEvents).toHaveLength(1);
  });

  it("replays the first answer to a reused Idempotency-Key, and refuses it with other parameters", async () => {
    const first = await meterEvent(valid("idem"), { "Idempotency-Key": "key-1" });
    const replay = await meterEvent(valid("idem"), { "Idempotency-Key": "key-1" });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(await first.json());

    const other = await meterEvent({ ...valid("idem"), "payload[value]": "1" }, { "Idempotency-Key": "key-1" });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: { type: string } }).error.type).toBe("idempotency_error");
    expect(fake.meterEvents).toHaveLength(1);
  });

  it("fails the next requests when told: with a status, or by recording the event and dropping the answer", async () => {
    await fetch(`${fake.url}/__fake/fail`, { method: "POST", body: JSON.stringify({ count: 1, mode: "status", status: 503 }) });
    expect((await meterEvent(valid("outage"))).status).toBe(503);
    expect(fake.meterEvents).toEqual([]);

    await fetch(`${fake.url}/__fake/fail`, { method: "POST", body: JSON.stringify({ count: 1, mode: "drop" }) });
    await expect(meterEvent(valid("lost"))).rejects.toThrow();
    expect(fake.meterEvents.map((event) => event.identifier)).toEqual(["lost"]);

    expect((await meterEvent(valid("after"))).status).toBe(200);
  });
});
