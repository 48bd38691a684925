import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
/**
 * The async guide holds its requests, answers and program to the API: its curl commands run as
 * written, in order, and get the answers shown; its JavaScript program runs as pasted and prints
 * the image URL. The queue is the test's: it keeps what a request sends and delivers it to the
 * Worker's queue() handler when the guide's reader would see it delivered.
 */
import guide from "../../site/src/pages/docs/async.md?raw";
import worker from "../src/index";
import type { GenerationMessage } from "../src/queue";
import { callApp, testEnv } from "./support/app";
import { quotaUsed, withDb } from "./support/fixtures";
import { freshProjectKey, GEMINI_ENV } from "./support/generation";
import { ExampleIds, exported, guideSteps, runGuideSteps } from "./support/guide-curl";

const TEST_ORIGIN = "http://banatie.test";

/**
 * A producer binding that keeps the messages requests send, and a consumer that delivers them to
 * the Worker's queue() handler as the queue would, acknowledging each.
 */
function heldQueue() {
  const held: GenerationMessage[] = [];
  const binding = { send: async (body: GenerationMessage) => void held.push(body) } as unknown as Queue;
  return {
    binding,
    held,
    /** Runs every message sent so far through the consumer. */
    async deliver() {
      const messages = held.splice(0);
      if (messages.length === 0) return;
      const batch = createMessageBatch<GenerationMessage>(
        "banatie-generations",
        messages.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, { ...testEnv, ...GEMINI_ENV } as Env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(messages.length);
    },
  };
}

/** The guide's setup values made the test's: the test Worker, and a fresh project's key. */
async function reader() {
  const { key } = await freshProjectKey();
  const own = new Map([
    ["BANATIE_URL", TEST_ORIGIN],
    ["BANATIE_API_KEY", key.key],
  ]);
  return { key, own };
}

/** The program of the guide's `js` block. */
function program(): string {
  const blocks = [...guide.matchAll(/```js\n([\s\S]*?)```/g)];
  expect(blocks, "one JavaScript program").toHaveLength(1);
  return blocks[0]?.[1] ?? "";
}

describe("the async guide (site/src/pages/docs/async.md)", () => {
  it("runs every request as written, in order, and each gets the answer shown", async () => {
    const { own } = await reader();
    const queue = heldQueue();
    const ids = new ExampleIds([[exported(guide, "BANATIE_URL"), TEST_ORIGIN]]);
    const steps = guideSteps(guide);
    expect(steps.filter(({ command }) => command.text.startsWith("curl")).length).toBeGreaterThanOrEqual(7);
    await runGuideSteps(steps, {
      own,
      ids,
      send: async (url, init) => {
        // The queue runs a generation before the reader next reads it, and while a request
        // waits for it (Prefer: wait=N); a cancel sent right after the 202 finds it pending.
        if (init.method === "GET") await queue.deliver();
        const waiting = new Headers(init.headers).get("Prefer")?.startsWith("wait=");
        const heldBefore = queue.held.length;
        const response = callApp(url, init, { ...GEMINI_ENV, GENERATIONS_QUEUE: queue.binding });
        if (waiting) {
          await vi.waitUntil(() => queue.held.length > heldBefore, { timeout: 5000, interval: 20 });
          await queue.deliver();
        }
        return response;
      },
    });
  }, 30_000);

  it("has a JavaScript program that, pasted and run, creates with a key, survives a lost answer, follows Location and prints the image URL", async () => {
    const { key, own } = await reader();
    const queue = heldQueue();
    const printed: string[] = [];
    const errors: string[] = [];
    const fakeProcess = { env: Object.fromEntries(own), exitCode: undefined as number | undefined };
    const sent: Request[] = [];
    let lostAnswers = 0;
    // fetch as the program sees it: the test Worker. The first POST runs but its answer is lost
    // (a network error), as a dropped connection does; the queue runs the generation after the
    // program has seen it pending once, so it polls at least twice.
    const fetchTestWorker = async (input: string | URL, init?: RequestInit) => {
      const request = new Request(String(input), init);
      sent.push(request.clone());
      const response = await callApp(request.url, request, { ...GEMINI_ENV, GENERATIONS_QUEUE: queue.binding });
      if (request.method === "POST" && lostAnswers === 0) {
        lostAnswers++;
        await response.body?.cancel();
        throw new TypeError("fetch failed");
      }
      if (request.method === "GET") await queue.deliver();
      return response;
    };
    const programConsole = {
      log: (line: string) => printed.push(String(line)),
      error: (line: string) => errors.push(String(line)),
    };
    // The guide's program, as a script (workerd's test runner allows Function): its globals
    // fetch, process and console are the test's.
    new Function("fetch", "process", "console", program())(fetchTestWorker, fakeProcess, programConsole);
    await vi.waitUntil(() => printed.length === 2 || errors.length > 0 || fakeProcess.exitCode !== undefined, {
      timeout: 20_000,
      interval: 50,
    });

    expect(errors).toEqual([]);
    expect(fakeProcess.exitCode).toBeUndefined();
    const posts = sent.filter((request) => request.method === "POST");
    expect(posts).toHaveLength(2);
    const [first, retry] = posts.map((request) => request.headers);
    expect(first?.get("Prefer")).toBe("respond-async");
    expect(first?.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry?.get("Idempotency-Key")).toBe(first?.get("Idempotency-Key"));
    // The retry was a replay: one generation, one request of the quota.
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);

    const gets = sent.filter((request) => request.method === "GET");
    expect(gets.length).toBeGreaterThanOrEqual(2);
    const location = new URL(gets[0]?.url ?? "");
    expect(location.pathname).toMatch(/^\/api\/v1\/generations\/[0-9a-f-]{36}$/);
    expect(printed[0]).toBe(`Accepted: ${location}`);
    const generation = await callApp(location.pathname, { headers: { "X-API-Key": key.key } });
    const { data } = (await generation.json()) as { data: { status: string; outputImage: { url: string } | null } };
    expect(data.status).toBe("success");
    expect(printed[1]).toBe(data.outputImage?.url);
    const image = await callApp(printed[1] ?? "");
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toMatch(/^image\//);
    await image.body?.cancel();
  }, 30_000);
});
