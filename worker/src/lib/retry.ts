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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  isRetryable: (error: unknown) => boolean,
): Promise<{ value: T; attempts: number }> {
  const deadline = Date.now() + policy.budgetMs;
  for (let number = 1; ; number++) {
    const timeoutMs = Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - Date.now()));
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
      const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (number - 1)) * Math.random();
      const outOfTime = Date.now() + delay >= deadline;
      if (number >= policy.maxAttempts || outOfTime || !isRetryable(error)) throw new RetriesExhaustedError(error, number);
      await sleep(delay);
    } finally {
      clearTimeout(timer);
    }
  }
}
