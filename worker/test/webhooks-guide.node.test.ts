import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import guide from "../../site/src/pages/docs/webhooks.md?raw";
import { generateMessageId, generateWebhookSecret, webhookHeaders } from "../src/services/webhooks/signing";

/** The guide's JavaScript, as a module in the repository (so that it finds the standardwebhooks package). */
async function guideVerifier(): Promise<(body: string, headers: Record<string, string>) => unknown> {
  const [, code] = /```js\n([\s\S]*?)```/.exec(guide) ?? [];
  if (!code) throw new Error("The webhooks guide shows no JavaScript");
  const dir = path.resolve(import.meta.dirname, "../../node_modules/.cache/webhooks-guide");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `verify-${process.pid}.mjs`);
  await writeFile(file, code);
  const module = (await import(pathToFileURL(file).href)) as {
    verifyBanatieWebhook: (body: string, headers: Record<string, string>) => unknown;
  };
  return module.verifyBanatieWebhook;
}

describe("the webhooks guide's verification code", () => {
  it("accepts a delivery Banatie signed, during a rotation too, and refuses a tampered one", async () => {
    const secret = generateWebhookSecret();
    process.env.BANATIE_WEBHOOK_SECRET = secret;
    const verify = await guideVerifier();
    const event = { type: "generation.succeeded", timestamp: new Date().toISOString(), data: { id: "g1", status: "success" } };
    const body = JSON.stringify(event);
    const message = { id: generateMessageId(), timestamp: new Date(), body };

    expect(verify(body, await webhookHeaders([secret], message))).toEqual(event);
    // Rotated away from: the old secret's signature comes first, the receiver's is second.
    expect(verify(body, await webhookHeaders([generateWebhookSecret(), secret], message))).toEqual(event);
    const headers = await webhookHeaders([secret], message);
    expect(() => verify(body.replace("success", "failed"), headers)).toThrow();
    expect(() => verify(body, { ...headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600) })).toThrow();
  });
});
