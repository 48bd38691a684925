import { callApi } from "./api";
import type { ApiBody, Schema } from "./api-contract";

/** The header that asks POST /api/v1/generations to answer 202 at once and run the generation from the queue. */
export const RESPOND_ASYNC = { Prefer: "respond-async" } as const;

type Generation = Schema<"V1Generation">;
export type GenerationStatus = Generation["status"];

/** True once a generation can change no more: it succeeded or failed (a cancel ends failed). */
export function isEnded(status: GenerationStatus): boolean {
  return status === "success" || status === "failed";
}

/** First wait between two reads of a queued generation, and the longest the backoff grows to. */
export const POLL_DELAY = { firstMs: 500, maxMs: 5000, factor: 1.5 } as const;

/** How long to wait before read number `attempt` (0 for the first): half a second, growing by half each time, at most 5 s. */
export function nextPollDelay(attempt: number): number {
  return Math.min(POLL_DELAY.maxMs, Math.round(POLL_DELAY.firstMs * POLL_DELAY.factor ** Math.max(0, attempt)));
}

/** What POST /api/v1/generations/{id}/cancel's success answers mean to the visitor (a 409 is a problem, shown as one). */
export function cancelOutcomeText(status: number): string {
  return status === 200
    ? "Canceled before it started: its request of the hourly quota and its budget reservation were refunded."
    : "It had already started: it runs to its end and its image is discarded.";
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Reads the generation at `location` (the 202's Location header) until it ends, telling
 * `onChange` each status it sees. One read at a time, with backoff between reads; stops when
 * `signal` aborts (the page is left) and then resolves with the last generation read.
 */
export async function followGeneration(
  location: string,
  first: Generation,
  signal: AbortSignal,
  onChange: (generation: Generation) => void,
): Promise<Generation> {
  let generation = first;
  for (let attempt = 0; !isEnded(generation.status) && !signal.aborted; attempt++) {
    await pause(nextPollDelay(attempt), signal);
    if (signal.aborted) break;
    const result = await callApi<ApiBody<"getGenerationV1", 200>>(location, { key: "project" });
    if (result.body.data.status !== generation.status) onChange(result.body.data);
    generation = result.body.data;
  }
  return generation;
}
