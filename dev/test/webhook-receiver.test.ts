import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../webhook-receiver/server.ts";

/** The webhook tests judge deliveries by what this receiver recorded and answered. */
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterAll(() => receiver?.stop());

const post = (inbox: string, body: string) =>
  fetch(`${receiver.url}/hooks/${inbox}`, { method: "POST", headers: { "webhook-id": "msg_1" }, body, redirect: "manual" });

describe("the webhook receiver", () => {
  it("answers each inbox's scripted answers in order, then 204, and records the raw requests", async () => {
    await fetch(`${receiver.url}/__fake/inboxes/a/script`, {
      method: "PUT",
      body: JSON.stringify([{ status: 500 }, { status: 302, location: "http://10.0.0.1/" }]),
    });
    expect((await post("a", '{"x": 1}')).status).toBe(500);
    const redirect = await post("a", "2");
    expect([redirect.status, redirect.headers.get("location")]).toEqual([302, "http://10.0.0.1/"]);
    expect((await post("a", "3")).status).toBe(204);
    expect((await post("b", "other")).status).toBe(204);
    const recorded = (await (await fetch(`${receiver.url}/__fake/inboxes/a/requests`)).json()) as {
      body: string;
      headers: Record<string, string>;
    }[];
    expect(recorded.map((request) => request.body)).toEqual(['{"x": 1}', "2", "3"]);
    expect(recorded[0]?.headers["webhook-id"]).toBe("msg_1");
  });

  it("never answers a request scripted to hang", async () => {
    await fetch(`${receiver.url}/__fake/inboxes/slow/script`, { method: "PUT", body: JSON.stringify([{ hang: true }]) });
    const answer = fetch(`${receiver.url}/hooks/slow`, { method: "POST", body: "x", signal: AbortSignal.timeout(300) });
    await expect(answer).rejects.toThrow();
  });
});
