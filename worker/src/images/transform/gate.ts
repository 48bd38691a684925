/**
 * One transformation at a time per isolate. Requests share an isolate's 128 MB, and the work is
 * CPU on its single thread anyway, so running two at once would only stack their peak memory.
 * Callers read their source and watermark inside `work`, so waiting requests hold nothing large.
 * A waiting request polls with its own timer rather than chaining onto another request's promise,
 * which the Workers runtime does not allow to settle across request contexts; beyond a few waiting,
 * or after a while, the answer is 503 with Retry-After.
 *
 * The slot and each place in the queue are leases with a deadline, not flags: when a client goes
 * away mid-transformation the runtime may drop its request without running its `finally`, and a
 * flag would then stay set, answering 503 to every later transformation of the isolate. A lease
 * ends when its work settles or when its deadline passes, whichever comes first.
 *
 * The work first reads its source and watermark from storage, which can be slow, then decodes and
 * encodes. It calls `renew` between the two, so the lease bounds the memory-heavy part whatever
 * the reads took; a holder whose lease lapsed and was taken by another request gets a 503 instead
 * of decoding alongside it.
 */

import { MAX_TRANSFORM_WAIT_MS, MAX_WAITING_TRANSFORMS, TRANSFORM_LEASE_MS } from "../../domain/limits";
import { AppError } from "../../lib/errors";

interface Lease {
  expiresAt: number;
}

export interface GateLimits {
  /** How long the running transformation keeps the slot at most. */
  leaseMs: number;
  /** Requests that may wait for the slot. */
  maxWaiting: number;
  /** How long each of them waits before a 503. */
  maxWaitMs: number;
}

function busyError(): AppError {
  return new AppError("TRANSFORM_BUSY", "This server is busy transforming images; retry in a second", {
    headers: { "Retry-After": "1" },
  });
}

const POLL_MS = 5;

/** The gate's time: the system's in the Worker, a test's own clock in tests. */
export interface GateClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const systemClock: GateClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A gate of its own; the Worker uses `exclusively` below, with the limits of limits.ts. */
export function createTransformGate(limits: GateLimits, clock: GateClock = systemClock) {
  let holder: Lease | null = null;
  const waiting = new Set<Lease>();
  const held = () => holder !== null && clock.now() < holder.expiresAt;

  /** Waiters still within their deadline; a cancelled request's place lapses with it. */
  function waitingNow(): number {
    const now = clock.now();
    for (const place of waiting) if (now >= place.expiresAt) waiting.delete(place);
    return waiting.size;
  }

  return async function exclusively<T>(work: (renew: () => void) => Promise<T>): Promise<T> {
    if (held()) {
      if (waitingNow() >= limits.maxWaiting) throw busyError();
      const place: Lease = { expiresAt: clock.now() + limits.maxWaitMs };
      waiting.add(place);
      try {
        while (held()) {
          if (clock.now() >= place.expiresAt) throw busyError();
          await clock.sleep(POLL_MS);
        }
      } finally {
        waiting.delete(place);
      }
    }
    // No await between the check above and taking the slot, so two waiters cannot both take it.
    const lease: Lease = { expiresAt: clock.now() + limits.leaseMs };
    holder = lease;
    const renew = () => {
      if (holder !== lease) throw busyError();
      lease.expiresAt = clock.now() + limits.leaseMs;
    };
    try {
      return await work(renew);
    } finally {
      // A lease that expired may already belong to the next request: release only our own.
      if (holder === lease) holder = null;
    }
  };
}

/** Runs `work` when the isolate's transformation slot is free; see the module comment. */
export const exclusively = createTransformGate({
  leaseMs: TRANSFORM_LEASE_MS,
  maxWaiting: MAX_WAITING_TRANSFORMS,
  maxWaitMs: MAX_TRANSFORM_WAIT_MS,
});
