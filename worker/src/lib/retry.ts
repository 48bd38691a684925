/**
 * Retries with exponential backoff and full jitter, each attempt under a timeout, all attempts
 * under one total budget, so a caller never waits longer than the budget however the upstream
 * fails.
 */
export interface RetryPolicy {
  maxAttempts: number;
  attemptTimeoutMs: number;
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`No answer within ${timeoutMs} ms`);
    this.name = "AttemptTimeoutError";
  }
}

/** The last failure, once the attempts or the budget ran out. */
export class RetriesExhaustedError extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
  ) {
    super(`Failed after ${attempts} attempt(s)`, { cause: lastError });
    this.name = "RetriesExhaustedError";
  }
}

/**
 * Time and chance as the retries see them, so a test can run the backoff and the budget on a
 * fake clock. The attempt timeout stays a real timer: it must stop a hung attempt whatever
 * clock is passed.
 */
export interface RetrySeams {
  /** Milliseconds since the epoch, as Date.now(). */
  now: () => number;
  /** The wait between attempts. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the jitter, as Math.random(). */
  random: () => number;
}

const systemSeams: RetrySeams = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  seams: Partial<RetrySeams> = {},
): Promise<{ value: T; attempts: number }> {
  const { now, sleep, random } = { ...systemSeams, ...seams };
  const deadline = now() + policy.budgetMs;
  for (let number = 1; ; number++) {
    const timeoutMs = Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - now()));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
    try {
      const value = await Promise.race([
        attempt(controller.signal, number),
        // Whether or not the attempt honours the signal, the caller stops waiting at the timeout.
        new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason))),
      ]);
      return { value, attempts: number };
    } catch (error) {
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (number - 1)) * random();
      const outOfTime = now() + delay >= deadline;
      if (number >= policy.maxAttempts || outOfTime || !isRetryable(error)) throw new RetriesExhaustedError(error, number);
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
}
