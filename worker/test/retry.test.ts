import { describe, expect, it } from "vitest";
import { AttemptTimeoutError, RetriesExhaustedError, type RetryPolicy, withRetries } from "../src/lib/retry";

/** A clock that moves only when the code under test waits or a test says so. */
function fakeClock() {
  let time = 1_700_000_000_000;
  const waits: number[] = [];
  return {
    waits,
    advance: (ms: number) => {
      time += ms;
    },
    seams: {
      now: () => time,
      sleep: async (ms: number) => {
        waits.push(ms);
        time += ms;
      },
    },
  };
}

const policy: RetryPolicy = { maxAttempts: 4, attemptTimeoutMs: 10_000, budgetMs: 60_000, baseDelayMs: 100, maxDelayMs: 300 };
const retryable = () => true;

async function failure(promise: Promise<unknown>): Promise<RetriesExhaustedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RetriesExhaustedError);
  return error as RetriesExhaustedError;
}

describe("withRetries", () => {
  it("waits the jittered share of base × 2^(attempt - 1), capped at the maximum, between attempts", async () => {
    const clock = fakeClock();
    const error = await failure(
      withRetries(
        policy,
        async () => {
          throw new Error("upstream 503");
        },
        retryable,
        { ...clock.seams, random: () => 0.5 },
      ),
    );
    expect(error.attempts).toBe(4);
    expect((error.lastError as Error).message).toBe("upstream 503");
    expect(clock.waits).toEqual([50, 100, 150]);
  });

  it("gives up before a wait that would pass the budget, however many attempts are left", async () => {
    const clock = fakeClock();
    const error = await failure(
      withRetries(
        { ...policy, budgetMs: 1000 },
        async () => {
          clock.advance(400); // each attempt fails after 400 ms
          throw new Error("upstream 503");
        },
        retryable,
        { ...clock.seams, random: () => 0.99 },
      ),
    );
    // 400 ms, a 99 ms wait, 400 ms: the next wait (198 ms) would end past the 1000 ms budget.
    expect(error.attempts).toBe(2);
    expect(clock.waits).toEqual([99]);
  });

  it("returns the first success with the number of attempts it took", async () => {
    const clock = fakeClock();
    const result = await withRetries(
      policy,
      async (_signal, attempt) => {
        if (attempt < 3) throw new Error("upstream 429");
        return "image";
      },
      retryable,
      { ...clock.seams, random: () => 0 },
    );
    expect(result).toEqual({ value: "image", attempts: 3 });
    expect(clock.waits).toEqual([0, 0]);
  });

  it("does not retry a failure that is not retryable", async () => {
    const clock = fakeClock();
    const error = await failure(
      withRetries(
        policy,
        async () => {
          throw new Error("bad request");
        },
        () => false,
        clock.seams,
      ),
    );
    expect(error.attempts).toBe(1);
    expect(clock.waits).toEqual([]);
  });

  it("stops waiting for a hung attempt at its timeout and aborts its signal", async () => {
    let signal: AbortSignal | undefined;
    const error = await failure(
      withRetries(
        { ...policy, maxAttempts: 1, attemptTimeoutMs: 20 },
        (given) => {
          signal = given;
          return new Promise<never>(() => {});
        },
        retryable,
      ),
    );
    expect(error.lastError).toBeInstanceOf(AttemptTimeoutError);
    expect((error.lastError as AttemptTimeoutError).timeoutMs).toBe(20);
    expect(signal?.aborted).toBe(true);
  });
});
