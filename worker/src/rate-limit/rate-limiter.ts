/**
 * An approximate, cheap limiter (the Workers Rate Limiting binding) used as a shield; the
 * exact hourly quota is PostgreSQL's job (services/auth.ts).
 */
export interface RateLimiter {
  /** True while `key` is under its limit; each call counts as one attempt. */
  allow(key: string): Promise<boolean>;
}

/** Wraps a `[[ratelimits]]` binding. A binding failure lets the request through: the exact quota still holds. */
export function bindingRateLimiter(binding: RateLimit): RateLimiter {
  return {
    async allow(key) {
      try {
        return (await binding.limit({ key })).success;
      } catch {
        return true;
      }
    },
  };
}

/** For deployments (or tests) without the binding. */
export const unlimited: RateLimiter = { allow: async () => true };
