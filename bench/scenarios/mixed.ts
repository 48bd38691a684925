import { execFileSync } from "node:child_process";
import { encodeRgbPng } from "../../dev/gemini-fake/png.ts";
import { percentile } from "../measure.ts";
import { createProjectKey } from "../support.ts";
import type { Measurement, Scenario } from "./types.ts";

const CLIENTS = 50;
const DURATION_S = Number(process.env.BENCH_MIXED_DURATION ?? 30);
const KEYS = 10;

/** Peak resident memory of the workerd processes, in MiB (the largest is the Worker's runtime). */
function workerdRssMiB(): number {
  try {
    const out = execFileSync("ps", ["-C", "workerd", "-o", "rss="], { encoding: "utf8" });
    return Math.max(
      0,
      ...out
        .split("\n")
        .filter(Boolean)
        .map((kib) => Number(kib) / 1024),
    );
  } catch {
    return 0;
  }
}

/** The operation a point in [0, total weight) falls on. */
function pickOperation<T extends [string, number, unknown]>(operations: T[], point: number): T {
  let remaining = point;
  for (const operation of operations) {
    remaining -= operation[1];
    if (remaining < 0) return operation;
  }
  return operations[0] as T;
}

/**
 * 50 clients for 30 s doing what users do, in rough proportion: fetch images (50%) and their
 * thumbnails (20%, transformed once per image, then cached), list (15%),
 * generate (10%), upload (5%), spread over 10 project keys. Every answer but a deliberate 429 must
 * be a success.
 */
export const mixedScenario: Scenario = {
  name: "mixed",
  async run({ platform }) {
    const { worker, masterKey } = platform;
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++) keys.push(await createProjectKey(worker.url, masterKey, `mixed-${i}`));
    const png = encodeRgbPng(200, 150, (row) => {
      for (let i = 0; i < row.length; i++) row[i] = Math.floor(Math.random() * 256);
    });
    const imagePaths: string[] = [];
    for (const key of keys) {
      const response = await fetch(`${worker.url}/api/text-to-image`, {
        method: "POST",
        headers: { "X-API-Key": key, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: "a seed image", autoEnhance: false }),
      });
      imagePaths.push(new URL(((await response.json()) as { data: { url: string } }).data.url).pathname);
    }

    // Each simulated user has an address of its own (TEST-NET-2, never routed), as at the edge,
    // where CF-Connecting-IP is the visitor's: image misses are limited per address.
    const visitor = (client: number) => ({ headers: { "CF-Connecting-IP": `198.51.100.${client + 1}` } });
    const operations: [string, number, (key: string, client: number) => Promise<Response>][] = [
      [
        "GET image",
        50,
        (_, client) => fetch(`${worker.url}${imagePaths[Math.floor(Math.random() * imagePaths.length)]}`, visitor(client)),
      ],
      [
        "GET image ?preset=thumbnail",
        20,
        (_, client) =>
          fetch(`${worker.url}${imagePaths[Math.floor(Math.random() * imagePaths.length)]}?preset=thumbnail`, visitor(client)),
      ],
      [
        "GET /api/images/generated",
        15,
        (key) => fetch(`${worker.url}/api/images/generated?limit=30`, { headers: { "X-API-Key": key } }),
      ],
      [
        "POST /api/text-to-image",
        10,
        (key) =>
          fetch(`${worker.url}/api/text-to-image`, {
            method: "POST",
            headers: { "X-API-Key": key, "Content-Type": "application/json" },
            body: JSON.stringify({ prompt: `a mixed load image ${Math.random()}`, outputFormat: "png" }),
          }),
      ],
      [
        "POST /api/upload",
        5,
        (key) => {
          const form = new FormData();
          form.append("file", new File([new Uint8Array(png)], "load.png", { type: "image/png" }));
          return fetch(`${worker.url}/api/upload`, { method: "POST", headers: { "X-API-Key": key }, body: form });
        },
      ],
    ];
    const totalWeight = operations.reduce((sum, [, weight]) => sum + weight, 0);
    const latencies = new Map<string, number[]>(operations.map(([name]) => [name, []]));
    let limited = 0;
    const failures: string[] = [];
    const idleMiB = workerdRssMiB();
    let peakMiB = idleMiB;
    const sampler = setInterval(() => {
      peakMiB = Math.max(peakMiB, workerdRssMiB());
    }, 500);

    const deadline = Date.now() + DURATION_S * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const key = keys[client % KEYS] as string;
        while (Date.now() < deadline) {
          const [name, , send] = pickOperation(operations, Math.random() * totalWeight);
          const started = performance.now();
          try {
            const response = await send(key, client);
            const body = await response.arrayBuffer();
            if (response.status === 429) limited++;
            else if (!response.ok) failures.push(`${name}: HTTP ${response.status} ${problemCode(body)}`.trim());
            else latencies.get(name)?.push(performance.now() - started);
          } catch (error) {
            failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }),
    );
    clearInterval(sampler);

    const measurements: Measurement[] = operations.map(([name]) => {
      const values = latencies.get(name) ?? [];
      return {
        name,
        requestsPerSecond: values.length / DURATION_S,
        medianMs: percentile(values, 50),
        p95Ms: percentile(values, 95),
        p99Ms: percentile(values, 99),
      };
    });
    return {
      scenario: "mixed",
      description: `Mixed load: ${CLIENTS} clients for ${DURATION_S} s`,
      measurements,
      metrics: { mixedLoadErrors: failures.length, mixedLoad429s: limited, workerdIdleMiB: idleMiB, workerdPeakMiB: peakMiB },
      notes: [
        `${failures.length} errors${failures.length ? ` (first: ${failures.slice(0, 3).join("; ")})` : ""}, ${limited} deliberate 429s`,
        `largest workerd process, resident memory: ${idleMiB.toFixed(0)} MiB before the load, ${peakMiB.toFixed(0)} MiB at its peak`,
      ],
    };
  },
};

/** The stable `code` of a problem+json answer, so a failure says which kind it was. */
function problemCode(body: ArrayBuffer): string {
  try {
    return String((JSON.parse(new TextDecoder().decode(body)) as { code?: unknown }).code ?? "");
  } catch {
    return "";
  }
}
