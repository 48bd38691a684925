/**
 * Variants this isolate is making right now, so that a request for one of them waits for its edge
 * copy instead of transforming it again. Without this, a burst of requests for one uncached
 * thumbnail queues one transformation each behind the isolate's single slot, and past the
 * queue's length (MAX_WAITING_TRANSFORMS) the rest are refused with 503 TRANSFORM_BUSY: broken
 * images for work that was already being done.
 *
 * Only keys are shared between requests, never promises or responses: the Workers runtime does
 * not let one request settle another's promise or read its I/O objects. A waiting request polls
 * with its own timer, then reads the edge cache itself. Each flight is a lease with a deadline,
 * so one whose request the runtime dropped mid-way stops holding others back.
 */

export interface FlightClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const systemClock: FlightClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const POLL_MS = 10;

export interface VariantFlights {
  /** Marks `key` as being made; call the result once its edge copy is stored (or the work failed). */
  begin(key: string): () => void;
  /**
   * `begin`, unless `key` is being made already: then null, and the caller waits for it. One
   * step, with no await inside, so of requests arriving together exactly one becomes the maker.
   */
  tryBegin(key: string): (() => void) | null;
  /**
   * Waits while `key` is being made, at most `maxWaitMs`. True when there was a flight to wait
   * for and it ended: its edge copy is then worth reading.
   */
  waitFor(key: string, maxWaitMs: number): Promise<boolean>;
}

export function createVariantFlights(leaseMs: number, clock: FlightClock = systemClock): VariantFlights {
  const flights = new Map<string, Set<{ expiresAt: number }>>();

  function inFlight(key: string): boolean {
    const leases = flights.get(key);
    if (!leases) return false;
    const now = clock.now();
    for (const lease of leases) if (now >= lease.expiresAt) leases.delete(lease);
    if (leases.size === 0) flights.delete(key);
    return leases.size > 0;
  }

  function begin(key: string): () => void {
    const lease = { expiresAt: clock.now() + leaseMs };
    const leases = flights.get(key) ?? new Set();
    leases.add(lease);
    flights.set(key, leases);
    return () => {
      leases.delete(lease);
      if (leases.size === 0 && flights.get(key) === leases) flights.delete(key);
    };
  }

  return {
    begin,
    tryBegin: (key) => (inFlight(key) ? null : begin(key)),
    async waitFor(key, maxWaitMs) {
      if (!inFlight(key)) return false;
      const deadline = clock.now() + maxWaitMs;
      while (inFlight(key)) {
        if (clock.now() >= deadline) return false;
        await clock.sleep(POLL_MS);
      }
      return true;
    },
  };
}
