import { encodeRgbPng } from "../../dev/gemini-fake/png.ts";
import { frontServices, type LatencyCounts, type RemoteService } from "../latency-proxy.ts";
import { percentile } from "../measure.ts";
import { buildWorkerBundle, type RuntimeWorker } from "../miniflare-worker.ts";
import { createProjectKey } from "../support.ts";
import type { Measurement, Scenario } from "./types.ts";

const SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 30);
const WARMUP = 3;

/**
 * Every service the Worker reaches over the network, by the variable that points it there: one
 * line each. The image model (the Gemini fake) is not fronted: its call is not counted.
 */
const REMOTE_SERVICES: readonly RemoteService[] = [
  { variable: "DATABASE_WS_PROXY", service: "database" },
  { variable: "DATABASE_HTTP_ENDPOINT", service: "database" },
  { variable: "S3_ENDPOINT", service: "storage" },
];

/** The median, p95 and p99 of `values` as a measurement named `name`. */
function summarize(name: string, values: number[]): Measurement {
  return { name, medianMs: percentile(values, 50), p95Ms: percentile(values, 95), p99Ms: percentile(values, 99) };
}

/**
 * Times `send` with no delay and with `delayMs` each way in alternate requests, after a warm-up,
 * so that a busy moment on the shared machine falls on both sides of the difference.
 */
async function timeWithAndWithoutDelay(
  name: string,
  send: () => Promise<Response>,
  setDelay: (ms: number) => void,
  delayMs: number,
): Promise<{ direct: Measurement; delayed: Measurement }> {
  const timed = async (ms: number) => {
    setDelay(ms);
    const started = performance.now();
    const response = await send();
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
    return performance.now() - started;
  };
  const direct: number[] = [];
  const delayed: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const withoutDelay = await timed(0);
    const withDelay = await timed(delayMs);
    if (i < WARMUP) continue;
    direct.push(withoutDelay);
    delayed.push(withDelay);
  }
  return {
    direct: summarize(`${name}, no delay`, direct),
    delayed: summarize(`${name}, ${delayMs} ms each way`, delayed),
  };
}

interface Endpoint {
  name: string;
  /** The metric its round trips are reported as (budgets in bench/budgets.json). */
  metric: string;
  worker: "api" | "apiWithModel" | "deliveryCached" | "deliveryUncached";
  send(url: string): Promise<Response>;
}

/**
 * POST /api/v1/generations as text-to-image is timed, then the same with an Idempotency-Key (a
 * fresh one each request, so each runs rather than replays): the difference is what recording
 * and completing the key adds to a generate call (at most 1 round trip, bench/budgets.json).
 */
function generateWithAndWithoutIdempotencyKey(projectKey: string, modelDelayMs: number): Endpoint[] {
  const generate = (url: string, headers: Record<string, string>) =>
    fetch(`${url}/api/v1/generations`, {
      method: "POST",
      headers: { "X-API-Key": projectKey, "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ prompt: `a lighthouse [fake:delay=${modelDelayMs}]`, autoEnhance: false, aspectRatio: "1:1" }),
    });
  return [
    {
      name: `POST /api/v1/generations (the Gemini fake answering in ${modelDelayMs} ms, no enhancement)`,
      metric: "v1GenerationRoundTrips",
      worker: "apiWithModel",
      send: (url) => generate(url, {}),
    },
    {
      name: "POST /api/v1/generations with an Idempotency-Key (a fresh one each request)",
      metric: "v1GenerationIdempotentRoundTrips",
      worker: "apiWithModel",
      send: (url) => generate(url, { "Idempotency-Key": crypto.randomUUID() }),
    },
  ];
}

/**
 * What an Idempotency-Key adds to a generate call, from the two endpoints above: sequential round
 * trips (the latency overhead's difference over a round trip's delay), database exchanges per
 * request, and the latency at the proxy delay, as a difference and a ratio.
 */
function idempotencyOverhead(
  plain: EndpointResult,
  idempotent: EndpointResult,
  oneWayDelayMs: number,
): { metrics: Record<string, number>; note: string } {
  const exact = (idempotent.overheadMs - plain.overheadMs) / (2 * oneWayDelayMs);
  const metrics = {
    idempotencyExtraRoundTrips: Math.max(0, Math.round(exact)),
    idempotencyExtraDatabaseExchanges: idempotent.databaseExchanges - plain.databaseExchanges,
    idempotencyExtraLatencyMs: idempotent.delayedMedianMs - plain.delayedMedianMs,
    idempotencyLatencyRatio: idempotent.delayedMedianMs / plain.delayedMedianMs,
  };
  const note =
    `Idempotency-Key on POST /api/v1/generations: +${metrics.idempotencyExtraRoundTrips} round trips (${exact.toFixed(2)}), ` +
    `+${metrics.idempotencyExtraDatabaseExchanges.toFixed(2)} database exchanges per request, ` +
    `median ${idempotent.delayedMedianMs.toFixed(0)} ms vs ${plain.delayedMedianMs.toFixed(0)} ms at ${oneWayDelayMs} ms each way ` +
    `(+${metrics.idempotencyExtraLatencyMs.toFixed(0)} ms, ${metrics.idempotencyLatencyRatio.toFixed(3)}x)`;
  return { metrics, note };
}

/** What the scenario keeps of an endpoint's run for comparisons between endpoints. */
interface EndpointResult {
  overheadMs: number;
  delayedMedianMs: number;
  databaseExchanges: number;
}

/**
 * Round trips per request on each critical path: the Workers run as deployed (Miniflare) with a
 * latency proxy in front of PostgreSQL's WebSocket proxy and of the S3 server; each endpoint is
 * timed with no delay and with `oneWayDelayMs` each way, in turns. The difference over a round trip's
 * delay is the number of sequential round trips on the request's path; the proxies also count
 * the connections and exchanges each request makes (parallel ones count apart, waitUntil work
 * after the response too), and the stack the database requests it served (PgRoundTrips).
 */
export const roundTripsScenario: Scenario = {
  name: "round-trips",
  async run({ platform, roundTrips, fake, oneWayDelayMs }) {
    const { worker, masterKey, projectKey } = platform;
    const meKey = await createProjectKey(worker.url, masterKey, "bench-round-trips");
    const form = new FormData();
    const png = encodeRgbPng(64, 64, (row) => row.fill(128));
    form.append("file", new File([new Uint8Array(png)], "round-trips.png", { type: "image/png" }));
    const uploaded = await fetch(`${worker.url}/api/upload`, { method: "POST", headers: { "X-API-Key": meKey }, body: form });
    const imagePath = new URL(((await uploaded.json()) as { data: { url: string } }).data.url).pathname;
    // The model answers after 10 round trips' time, as a real one takes seconds: what the platform
    // does in parallel with the call is then off the path, as at the edge.
    const modelDelayMs = 20 * oneWayDelayMs;
    const listed = (query: string) => (url: string) =>
      fetch(`${url}/api/images/uploads${query}`, { headers: { "X-API-Key": meKey } });

    const endpoints: Endpoint[] = [
      { name: "GET /api/info (no I/O)", metric: "infoRoundTrips", worker: "api", send: (url) => fetch(`${url}/api/info`) },
      {
        name: "GET /api/bootstrap/status (public, one query)",
        metric: "publicQueryRoundTrips",
        worker: "api",
        send: (url) => fetch(`${url}/api/bootstrap/status`),
      },
      {
        name: "GET /api/me (authenticated)",
        metric: "authRoundTrips",
        worker: "api",
        send: (url) => fetch(`${url}/api/me`, { headers: { "X-API-Key": meKey } }),
      },
      {
        name: "POST /api/enhance (authenticated, quota, template enhancer)",
        metric: "authQuotaRoundTrips",
        worker: "api",
        send: (url) =>
          fetch(`${url}/api/enhance`, {
            method: "POST",
            headers: { "X-API-Key": projectKey, "Content-Type": "application/json" },
            body: JSON.stringify({ prompt: "a red bicycle" }),
          }),
      },
      {
        name: `POST /api/text-to-image (the Gemini fake answering in ${modelDelayMs} ms, PNG, no enhancement)`,
        metric: "textToImageRoundTrips",
        worker: "apiWithModel",
        send: (url) =>
          fetch(`${url}/api/text-to-image`, {
            method: "POST",
            headers: { "X-API-Key": projectKey, "Content-Type": "application/json" },
            body: JSON.stringify({
              prompt: `a lighthouse [fake:delay=${modelDelayMs}]`,
              autoEnhance: false,
              outputFormat: "png",
              aspectRatio: "1:1",
            }),
          }),
      },
      ...generateWithAndWithoutIdempotencyKey(projectKey, modelDelayMs),
      {
        name: "GET image, edge-cache hit (delivery Worker)",
        metric: "imageHitRoundTrips",
        worker: "deliveryCached",
        send: (url) => fetch(`${url}${imagePath}`),
      },
      {
        name: "GET image, miss: the original (delivery Worker, cache off)",
        metric: "imageMissRoundTrips",
        worker: "deliveryUncached",
        send: (url) => fetch(`${url}${imagePath}`),
      },
      { name: "GET /api/images/uploads (listing)", metric: "listingRoundTrips", worker: "api", send: listed("") },
      { name: "GET /api/images/uploads?q= (search)", metric: "searchRoundTrips", worker: "api", send: listed("?q=round") },
    ];

    const fronted = await frontServices({ ...platform.stack.workerVars, ENVIRONMENT: "test" }, REMOTE_SERVICES, 0);
    const [api, delivery] = await Promise.all([buildWorkerBundle("api"), buildWorkerBundle("delivery")]);
    const workers: Record<Endpoint["worker"], RuntimeWorker> = {
      api: await api.start(fronted.vars),
      apiWithModel: await api.start({ ...fronted.vars, GEMINI_API_KEY: "bench-key", GEMINI_BASE_URL: fake.url }),
      deliveryCached: await delivery.start(fronted.vars),
      deliveryUncached: await delivery.start({ ...fronted.vars, IMAGE_EDGE_CACHE: "off" }),
    };

    const measurements: Measurement[] = [];
    const metrics: Record<string, number> = {};
    const results = new Map<string, EndpointResult>();
    const notes = [
      `${SAMPLES} sequential requests per endpoint with no delay and ${SAMPLES} with ${oneWayDelayMs} ms each way at the proxies, in turns ` +
        `(a new connection first waits one round trip, as a TCP handshake does); round trips = ` +
        `(median with latency - median without) / ${2 * oneWayDelayMs} ms, rounded. Per request at the proxies: ` +
        "connections and exchanges (parallel and waitUntil ones included) with each service, and database requests (statements) served",
    ];
    try {
      for (const endpoint of endpoints) {
        const url = workers[endpoint.worker].url;
        const send = () => endpoint.send(url);
        // Once before counting: a cache hit's first request is a miss.
        await (await send()).arrayBuffer();
        fronted.reset();
        const statementsBefore = roundTrips.snapshot();
        const { direct, delayed } = await timeWithAndWithoutDelay(endpoint.name, send, fronted.setOneWayDelay, oneWayDelayMs);
        const perRequest = (count: number) => count / (2 * (SAMPLES + WARMUP));
        const statements = perRequest(roundTrips.snapshot().queries - statementsBefore.queries);
        const counts = fronted.counts();
        const overheadMs = delayed.medianMs - direct.medianMs;
        results.set(endpoint.metric, {
          overheadMs,
          delayedMedianMs: delayed.medianMs,
          databaseExchanges: perRequest(counts.database?.exchanges ?? 0),
        });
        const exact = overheadMs / (2 * oneWayDelayMs);
        metrics[endpoint.metric] = Math.max(0, Math.round(exact));
        metrics[endpoint.metric.replace(/RoundTrips$/, "LatencyOverheadMs")] = overheadMs;
        measurements.push(direct, delayed);
        const describe = (name: string, count: LatencyCounts | undefined) =>
          `${name} ${perRequest(count?.connections ?? 0).toFixed(2)} connections, ${perRequest(count?.exchanges ?? 0).toFixed(2)} exchanges`;
        notes.push(
          `${endpoint.name}: ${metrics[endpoint.metric]} round trips (${exact.toFixed(2)}), +${Math.max(0, overheadMs).toFixed(0)} ms; ` +
            `${describe("database", counts.database)} (${statements.toFixed(2)} statements), ${describe("storage", counts.storage)}`,
        );
      }
      const plain = results.get("v1GenerationRoundTrips");
      const idempotent = results.get("v1GenerationIdempotentRoundTrips");
      if (plain && idempotent) {
        const overhead = idempotencyOverhead(plain, idempotent, oneWayDelayMs);
        Object.assign(metrics, overhead.metrics);
        notes.push(overhead.note);
      }
    } finally {
      await Promise.all(Object.values(workers).map((running) => running.stop()));
      await fronted.stop();
    }
    return {
      scenario: "round-trips",
      description: `Round trips per request under ${oneWayDelayMs} ms each way to PostgreSQL and storage`,
      measurements,
      metrics,
      notes,
    };
  },
};
