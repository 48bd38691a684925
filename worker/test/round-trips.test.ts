import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { countingRateLimit, freshIp, testEnv } from "./support/app";
import { createProject, insertImageRow, insertKey, type TestKey, type TestProject, withDb } from "./support/fixtures";
import { fakeRequests, GEMINI_ENV, marker, scriptFake } from "./support/generation";
import { formWith, imageFile } from "./support/images";

/**
 * Round trips to PostgreSQL and storage on the critical paths, as the servers of the test stack
 * saw them (dev/test/support/round-trip-log.ts). At the edge each one costs 10-100 ms, so
 * these counts are the latency budget: the database is this file's own, so every statement it
 * receives is ours, and storage requests are told apart by the project's prefix.
 */

const DATABASE = "round_trips";
const databaseUrl = () => testEnv.ISOLATED_DATABASE_URLS[DATABASE] as string;

let scope: TestProject;
let key: TestKey;

beforeAll(async () => {
  ({ scope, key } = await withDb(async (db) => {
    const project = await createProject(db);
    return { scope: project, key: await insertKey(db, { type: "project", scope: project }) };
  }, databaseUrl()));
});

/** What dev/stack/neon-http.ts and dev/stack/s3-server.ts report of each request they served. */
interface Observed {
  startedAt: number;
  endedAt: number;
}
interface ObservedSqlRequest extends Observed {
  queries: string[];
}
interface ObservedStorageRequest extends Observed {
  method: string;
  path: string;
}
type Request = ObservedSqlRequest | ObservedStorageRequest;

/** Makes the fake text model answer prompts containing `tag` with a valid enhancement. */
async function scriptEnhancement(tag: string): Promise<void> {
  await scriptFake({
    marker: tag,
    model: "gemini-2.5-flash",
    text: JSON.stringify({
      enhancedPrompt: `a detailed scene ${tag}`,
      detectedLanguage: "en",
      translated: false,
      improvements: ["detail"],
    }),
  });
}

/** What one request asked of the database and storage, background work (`services.defer`) included. */
interface Traffic {
  /** Database requests, each one HTTP exchange. */
  database: ObservedSqlRequest[];
  storage: ObservedStorageRequest[];
  /** WebSocket connections opened to the database (each one a connection setup). */
  webSockets: number;
}

async function observed(): Promise<Traffic> {
  const prefix = `/${testEnv.S3_BUCKET}/${scope.organization.slug}/${scope.project.slug}/`;
  const query = new URLSearchParams({ database: DATABASE, storagePrefix: prefix });
  return (await fetch(`${testEnv.ROUND_TRIPS_URL}/?${query}`)).json();
}

/** The longest chain of requests each of which started after the previous one ended. */
function sequential(requests: Request[]): number {
  const sorted = [...requests].sort((a, b) => a.startedAt - b.startedAt);
  const chain: number[] = [];
  sorted.forEach((request, index) => {
    const before = sorted.slice(0, index).map((earlier, at) => (earlier.endedAt <= request.startedAt ? (chain[at] ?? 0) : 0));
    chain.push(1 + Math.max(0, ...before));
  });
  return Math.max(0, ...chain);
}

/** Sends one request through the Worker, waits for its background work, and returns its traffic. */
async function traced(path: string, init: RequestInit, env: Record<string, unknown> = {}) {
  const before = await observed();
  const ctx = createExecutionContext();
  const request = new Request(`http://banatie.test${path}`, {
    ...init,
    headers: { "CF-Connecting-IP": freshIp(), ...init.headers },
  });
  const response = await buildApp().fetch(request, { ...testEnv, DATABASE_URL: databaseUrl(), ...env }, ctx);
  // workerd's clock moves only with I/O: this is when the last answer the response waited for came in.
  const respondedAt = Date.now();
  const body = await response.arrayBuffer();
  await waitOnExecutionContext(ctx);
  const after = await observed();
  const traffic: Traffic = {
    database: after.database.slice(before.database.length),
    storage: after.storage.slice(before.storage.length),
    webSockets: after.webSockets - before.webSockets,
  };
  return { response, body, traffic, respondedAt };
}

const overlap = (a: Request, b: Request) => a.startedAt < b.endedAt && b.startedAt < a.endedAt;
const named = (requests: ObservedSqlRequest[], pattern: RegExp) => {
  const found = requests.filter((request) => request.queries.some((query) => pattern.test(query)));
  expect(found, `one request matching ${pattern}`).toHaveLength(1);
  return found[0] as ObservedSqlRequest;
};

const AUTH = /from api_keys k/;

describe("round trips to the database and storage", () => {
  it("authenticates a request and spends its quota in one HTTP exchange, with no connection setup", async () => {
    const { response, traffic } = await traced("/api/me", { headers: { "X-API-Key": key.key } });

    expect(response.status).toBe(200);
    expect(traffic.database).toHaveLength(1);
    expect(traffic.database[0]?.queries).toEqual([expect.stringMatching(AUTH)]);
    expect(traffic.webSockets).toBe(0);
    expect(traffic.storage).toEqual([]);
  });

  it("quotes in one exchange, the key check, whichever way the quote is asked", async () => {
    const prompt = `a lighthouse in fog ${marker()}`;
    for (const [path, body] of [
      ["/api/quotes", { prompt }],
      ["/api/text-to-image", { prompt, dryRun: true }],
    ] as const) {
      const { response, traffic } = await traced(
        path,
        { method: "POST", headers: { "X-API-Key": key.key, "Content-Type": "application/json" }, body: JSON.stringify(body) },
        GEMINI_ENV,
      );

      expect(response.status).toBe(200);
      expect(traffic.database).toHaveLength(1);
      expect(traffic.database[0]?.queries).toEqual([expect.stringMatching(AUTH)]);
      expect(traffic.webSockets).toBe(0);
      expect(traffic.storage).toEqual([]);
    }
  });

  it("quotes references in one round trip: their rows are read beside the key check, and no object is read", async () => {
    const { response: uploaded, body } = await traced("/api/upload", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: formWith(await imageFile("png", 40, 24), "quoted.png"),
    });
    expect(uploaded.status).toBe(201);
    const { id } = (JSON.parse(new TextDecoder().decode(body)) as { data: { id: string } }).data;
    const { response, traffic } = await traced(
      "/api/quotes",
      {
        method: "POST",
        headers: { "X-API-Key": key.key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: `a lighthouse in fog ${marker()}`, referenceImages: [id] }),
      },
      GEMINI_ENV,
    );

    expect(response.status).toBe(200);
    expect(traffic.database).toHaveLength(2);
    expect(overlap(named(traffic.database, AUTH), named(traffic.database, /specs \(ord, image_id, alias, technical\)/))).toBe(
      true,
    );
    expect(sequential(traffic.database)).toBe(1);
    expect(traffic.webSockets).toBe(0);
    expect(traffic.storage).toEqual([]);
  });

  it("lists images in two exchanges: the key check, then the page", async () => {
    const { response, traffic } = await traced("/api/images/uploads", { headers: { "X-API-Key": key.key } });

    expect(response.status).toBe(200);
    expect(traffic.database).toHaveLength(2);
    expect(sequential(traffic.database)).toBe(2);
    expect(traffic.webSockets).toBe(0);
  });

  it("generates an image in three sequential round trips besides the model: key check with prompt cache, object, rows", async () => {
    const tag = marker();
    const prompt = `a lighthouse in fog ${tag}`;
    await scriptEnhancement(tag);
    const { response, traffic, respondedAt } = await traced(
      "/api/text-to-image",
      {
        method: "POST",
        headers: { "X-API-Key": key.key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt, autoEnhance: true }),
      },
      GEMINI_ENV,
    );

    expect(response.status).toBe(201);
    expect(traffic.webSockets).toBe(0);
    // The five of the generation, and its webhook event's one read once the response is ready.
    expect(traffic.database).toHaveLength(6);
    expect(traffic.storage.map((request) => request.method)).toEqual(["PUT"]);
    const auth = named(traffic.database, AUTH);
    const cacheRead = named(traffic.database, /from "prompt_cache"/);
    const pending = named(traffic.database, /insert into "generations"/);
    const rows = named(traffic.database, /insert into images/);
    const put = traffic.storage[0] as ObservedStorageRequest;
    // 1: the key check and the prompt cache, side by side.
    expect(overlap(auth, cacheRead)).toBe(true);
    // The pending row is written while the models work (text, then image), not before them.
    const [textCall, imageCall] = (await fakeRequests(tag)).sort((a, b) => a.receivedAt - b.receivedAt);
    expect(textCall?.model).toBe("gemini-2.5-flash");
    expect(imageCall?.model).toBe("gemini-2.5-flash-image");
    expect(pending.startedAt).toBeLessThan(imageCall?.receivedAt as number);
    // 2 and 3, after the models: the object first, then its rows in one statement.
    expect(put.startedAt).toBeGreaterThan(imageCall?.receivedAt as number);
    expect(rows.startedAt).toBeGreaterThanOrEqual(put.endedAt);
    expect(sequential([auth, cacheRead, put, rows])).toBe(3);
    // The new prompt-cache entry is kept without anyone waiting for it.
    named(traffic.database, /insert into "prompt_cache"/);
    // The generation's webhook event (none listen here): one statement, after everything the response waited for.
    expect(named(traffic.database, /from webhook_endpoints e/).startedAt).toBeGreaterThanOrEqual(respondedAt);
  });

  it("with an Idempotency-Key, adds at most one round trip: the claim rides on the key check, the answer is stored before it is sent", async () => {
    const generate = (tag: string, headers: Record<string, string> = {}) =>
      traced(
        "/api/text-to-image",
        {
          method: "POST",
          headers: { "X-API-Key": key.key, "Content-Type": "application/json", ...headers },
          body: JSON.stringify({ prompt: `a lighthouse in fog ${tag}`, autoEnhance: false }),
        },
        GEMINI_ENV,
      );
    // What the answer waited for: every request that started before it was sent.
    const beforeAnswer = ({ traffic, respondedAt }: Awaited<ReturnType<typeof generate>>) =>
      sequential([...traffic.database, ...traffic.storage].filter((request) => request.startedAt < respondedAt));

    const plain = await generate(marker());
    const keyed = await generate(marker(), { "Idempotency-Key": crypto.randomUUID() });
    expect(plain.response.status).toBe(201);
    expect(keyed.response.status).toBe(201);
    expect(keyed.traffic.webSockets).toBe(0);
    // The claim is part of the key check's statement, not a statement of its own.
    expect(named(keyed.traffic.database, AUTH).queries).toEqual([expect.stringMatching(/insert into idempotency_keys/)]);
    const stored = named(keyed.traffic.database, /update "idempotency_keys"/);
    expect(stored.endedAt).toBeLessThanOrEqual(keyed.respondedAt);
    expect(beforeAnswer(keyed)).toBeLessThanOrEqual(beforeAnswer(plain) + 1);
  });

  it("with a monthly budget, adds one round trip before the model (the reservation) and settles after the response", async () => {
    const budgeted = await withDb(async (db) => {
      const created = await insertKey(db, { type: "project", scope });
      await db.execute(sql`update api_keys set monthly_budget_usd_micros = 10000000 where id = ${created.id}`);
      return created;
    }, databaseUrl());
    const tag = marker();
    const { response, traffic, respondedAt } = await traced(
      "/api/text-to-image",
      {
        method: "POST",
        headers: { "X-API-Key": budgeted.key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: `a lighthouse in fog ${tag}`, autoEnhance: false }),
      },
      GEMINI_ENV,
    );

    expect(response.status).toBe(201);
    expect(traffic.webSockets).toBe(0);
    const auth = named(traffic.database, AUTH);
    // The advisory lock and the reservation: one batch, one exchange.
    const reservation = named(traffic.database, /pg_advisory_xact_lock/);
    const rows = named(traffic.database, /insert into images/);
    const settlement = named(traffic.database, /update budget_periods/);
    const put = traffic.storage[0] as ObservedStorageRequest;
    const [imageCall] = await fakeRequests(tag);
    expect(reservation.startedAt).toBeGreaterThanOrEqual(auth.endedAt);
    expect(reservation.endedAt).toBeLessThanOrEqual(imageCall?.receivedAt as number);
    expect(sequential([auth, reservation, put, rows])).toBe(4);
    // Settled in the background, after the client has its answer.
    expect(settlement.startedAt).toBeGreaterThanOrEqual(respondedAt);
  });

  it("reads a cached enhancement in the same round trip as the key check", async () => {
    const tag = marker();
    const prompt = `a harbour at dawn ${tag}`;
    await scriptEnhancement(tag);
    const send = () =>
      traced(
        "/api/enhance",
        {
          method: "POST",
          headers: { "X-API-Key": key.key, "Content-Type": "application/json" },
          body: JSON.stringify({ prompt }),
        },
        GEMINI_ENV,
      );
    await send();
    const { response, traffic } = await send();

    expect(response.status).toBe(200);
    expect(traffic.database).toHaveLength(3);
    expect(overlap(named(traffic.database, AUTH), named(traffic.database, /from "prompt_cache"/))).toBe(true);
    // Counting the hit waits for nobody.
    named(traffic.database, /update "prompt_cache"/);
    expect(traffic.webSockets).toBe(0);
  });

  it("reads nothing alongside a key check that the burst shield refuses", async () => {
    const tag = marker();
    await scriptEnhancement(tag);
    const startedAt = Date.now();
    const { response } = await traced(
      "/api/enhance",
      {
        method: "POST",
        headers: { "X-API-Key": key.key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: `a lantern ${tag}` }),
      },
      { ...GEMINI_ENV, KEY_BURST_LIMITER: countingRateLimit(0) },
    );

    expect(response.status).toBe(429);
    // A read started beside the refusal is still under way when the refusal is answered: give it
    // time (five times the stack's latency) to reach the log.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const since = (await observed()).database.filter((request) => request.startedAt >= startedAt);
    expect(since).toEqual([]);
  });

  it("creates a v1 generation with 3 references in four sequential round trips: key check with resolution, the cache beside the 3 reads, object, rows", async () => {
    const ids: string[] = [];
    for (const width of [30, 31, 32]) {
      const { response, body } = await traced("/api/upload", {
        method: "POST",
        headers: { "X-API-Key": key.key },
        body: formWith(await imageFile("png", width, 24), `ref-${width}.png`),
      });
      expect(response.status).toBe(201);
      ids.push((JSON.parse(new TextDecoder().decode(body)) as { data: { id: string } }).data.id);
    }
    const tag = marker();
    await scriptEnhancement(tag);
    const { response, traffic } = await traced(
      "/api/v1/generations",
      {
        method: "POST",
        headers: { "X-API-Key": key.key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: `compose them ${tag}`, referenceImages: ids, autoEnhance: true }),
      },
      GEMINI_ENV,
    );

    expect(response.status).toBe(201);
    expect(traffic.webSockets).toBe(0);
    const auth = named(traffic.database, AUTH);
    const resolve = named(traffic.database, /specs \(ord, image_id, alias, technical\)/);
    const cacheRead = named(traffic.database, /from "prompt_cache"/);
    const rows = named(traffic.database, /insert into images/);
    const gets = traffic.storage.filter((request) => request.method === "GET");
    const [put] = traffic.storage.filter((request) => request.method === "PUT");
    expect(gets).toHaveLength(3);
    // The references are resolved beside the key check; the cache, read under their labels, beside their objects.
    expect(overlap(auth, resolve)).toBe(true);
    expect(gets.some((get) => overlap(cacheRead, get))).toBe(true);
    // The three objects are read at once.
    for (const [a, b] of [
      [0, 1],
      [1, 2],
      [0, 2],
    ] as const) {
      expect(overlap(gets[a] as ObservedStorageRequest, gets[b] as ObservedStorageRequest)).toBe(true);
    }
    expect(rows.startedAt).toBeGreaterThanOrEqual((put as ObservedStorageRequest).endedAt);
    expect(sequential([auth, resolve, cacheRead, ...gets, put as ObservedStorageRequest, rows])).toBe(4);
  });

  it("uploads in three: key check, object, row", async () => {
    const { response, traffic } = await traced("/api/upload", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: formWith(await imageFile("png", 32, 24), "counted.png"),
    });

    expect(response.status).toBe(201);
    expect(traffic.database).toHaveLength(2);
    expect(traffic.storage.map((request) => request.method)).toEqual(["PUT"]);
    expect(sequential([...traffic.database, ...traffic.storage])).toBe(3);
    expect(traffic.webSockets).toBe(0);
  });

  it("generates with 2 files (POST /api/generate) in five: key check, the files' objects, their rows, the output object, its rows", async () => {
    const form = new FormData();
    form.append("prompt", `the two together ${marker()}`);
    form.append("autoEnhance", "false");
    for (const width of [30, 31]) {
      form.append("files[]", new File([await imageFile("png", width, 24)], `ref-${width}.png`));
    }
    const { response, traffic } = await traced("/api/generate", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: form,
    });

    expect(response.status).toBe(201);
    expect(traffic.webSockets).toBe(0);
    // The files are stored side by side and never read back: the model gets the bytes in hand.
    const [first, second, output] = traffic.storage as ObservedStorageRequest[];
    expect(traffic.storage.map((request) => request.method)).toEqual(["PUT", "PUT", "PUT"]);
    expect(overlap(first as ObservedStorageRequest, second as ObservedStorageRequest)).toBe(true);
    const auth = named(traffic.database, AUTH);
    const references = traffic.database.filter((request) => request.queries.some((query) => /insert into "images"/.test(query)));
    expect(references).toHaveLength(2);
    const rows = named(traffic.database, /insert into images/);
    expect(
      sequential([
        auth,
        first as ObservedStorageRequest,
        second as ObservedStorageRequest,
        ...references,
        output as ObservedStorageRequest,
        rows,
      ]),
    ).toBe(5);
  });

  it("serves an image miss with one database and one storage round trip side by side, and a hit with none", async () => {
    const uploaded = await traced("/api/upload", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: formWith(await imageFile("png", 30, 20), "served.png"),
    });
    const path = new URL((JSON.parse(new TextDecoder().decode(uploaded.body)) as { data: { url: string } }).data.url).pathname;

    const miss = await traced(path, {});
    expect(miss.response.status).toBe(200);
    expect(miss.traffic.database).toHaveLength(1);
    expect(miss.traffic.storage.map((request) => request.method)).toEqual(["GET"]);
    expect(sequential([...miss.traffic.database, ...miss.traffic.storage])).toBe(1);
    expect(miss.traffic.webSockets).toBe(0);

    const hit = await traced(path, {});
    expect(hit.response.headers.get("x-cache")).toBe("HIT");
    expect(hit.traffic.database).toEqual([]);
    expect(hit.traffic.storage).toEqual([]);
  });

  it("reads a v1 flow, or a page of flows, in one round trip: the key check with the read beside it", async () => {
    for (const [path, status, read] of [
      [`/api/v1/flows/${crypto.randomUUID()}`, 404, /from flows where project_id/],
      ["/api/v1/flows?limit=5", 200, /count\(\*\)::int as total from flows/],
    ] as const) {
      const { response, traffic } = await traced(path, { headers: { "X-API-Key": key.key } });
      expect(response.status, path).toBe(status);
      expect(traffic.database, path).toHaveLength(2);
      expect(overlap(named(traffic.database, AUTH), named(traffic.database, read)), path).toBe(true);
      expect(traffic.storage).toEqual([]);
    }
  });

  it("lists a v1 flow's generations or images in one round trip: the key check with the flow and the list beside it", async () => {
    const flowId = crypto.randomUUID();
    await withDb((db) => insertImageRow(db, scope, "uploads", { flowId }), databaseUrl());
    // The list is the statement counting its matches beside the page (the flow's summary counts too, but not so).
    const list = /count\(\*\) over \(\)/;
    for (const path of [`/api/v1/flows/${flowId}/generations`, `/api/v1/flows/${flowId}/images`]) {
      const { response, traffic } = await traced(path, { headers: { "X-API-Key": key.key } });
      expect(response.status, path).toBe(200);
      expect(traffic.database, path).toHaveLength(3);
      const auth = named(traffic.database, AUTH);
      expect(overlap(auth, named(traffic.database, /from flows where project_id/)), path).toBe(true);
      expect(overlap(auth, named(traffic.database, list)), path).toBe(true);
      expect(traffic.storage).toEqual([]);
    }
  });

  it("serves an img/ URL with one database lookup, then its object from the edge or storage", async () => {
    const uploaded = await traced("/api/upload", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: formWith(await imageFile("png", 30, 20), "named.png"),
    });
    const { id } = (JSON.parse(new TextDecoder().decode(uploaded.body)) as { data: { id: string } }).data;
    const path = `/api/images/${scope.organization.slug}/${scope.project.slug}/img/${id}`;

    const miss = await traced(path, {});
    expect(miss.response.status).toBe(200);
    expect(miss.traffic.database).toHaveLength(1);
    expect(miss.traffic.storage.map((request) => request.method)).toEqual(["GET"]);
    expect(sequential([...miss.traffic.database, ...miss.traffic.storage])).toBe(2);
    expect(miss.traffic.webSockets).toBe(0);

    // The object is at the edge now; which image the URL names is still asked every time.
    const hit = await traced(path, {});
    expect(hit.response.headers.get("x-cache")).toBe("HIT");
    expect(hit.traffic.database).toHaveLength(1);
    expect(hit.traffic.storage).toEqual([]);
  });

  it("serves a preset variant miss with one database and one storage round trip, recording the variant beside the work", async () => {
    const uploaded = await traced("/api/upload", {
      method: "POST",
      headers: { "X-API-Key": key.key },
      body: formWith(await imageFile("png", 40, 30), "variant.png"),
    });
    const path = new URL((JSON.parse(new TextDecoder().decode(uploaded.body)) as { data: { url: string } }).data.url).pathname;

    const miss = await traced(`${path}?preset=thumbnail`, {});
    expect(miss.response.status).toBe(200);
    expect(miss.traffic.storage.map((request) => request.method)).toEqual(["GET"]);
    expect(miss.traffic.database).toHaveLength(2);
    const find = miss.traffic.database.find((request) => !request.queries.some((query) => /image_variants/.test(query)));
    const record = named(miss.traffic.database, /insert into "image_variants"/);
    expect(sequential([find as ObservedSqlRequest, ...miss.traffic.storage])).toBe(1);
    // The response did not wait for the record (held 1.5 s by the test stack); its edge copy did.
    expect(miss.respondedAt).toBeLessThan(record.endedAt);
    const hit = await traced(`${path}?preset=thumbnail`, {});
    expect(hit.response.headers.get("x-cache")).toBe("HIT");
    expect(hit.traffic.database).toEqual([]);
  });
});
