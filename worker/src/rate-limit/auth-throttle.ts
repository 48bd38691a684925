import type { RateLimiter } from "./rate-limiter";

/** How long a client stays refused once over its failed-authentication budget (the binding's period). */
export const AUTH_THROTTLE_SECONDS = 60;
/** Throttled clients remembered per isolate; the oldest are forgotten first (the Cache API still knows them). */
const MAX_REMEMBERED_CLIENTS = 10_000;
/** Never fetched: a cache key naming one client's throttle, on a host nobody can request. */
const CACHE_KEY_ORIGIN = "https://auth-throttle.banatie.internal";

/**
 * Failed authentications per client. The Rate Limiting binding cannot be asked "over budget?"
 * without counting an attempt, so once it refuses a client, the refusal is remembered until it
 * expires: in this isolate's memory and in the data center's cache. A remembered client is
 * refused before its key is even looked up, so a guesser costs no database work.
 */
export interface FailedAuthThrottle {
  /** Seconds the client must still wait, or 0 when it may try to authenticate. */
  throttledFor(client: string): Promise<number>;
  /** Counts one failure; false once the client is over budget, which is then remembered. */
  recordFailure(client: string): Promise<boolean>;
}

/** When each throttled client may try again (epoch ms): lives as long as the isolate. */
export type ThrottleMemory = Map<string, number>;

export function failedAuthThrottle(options: {
  limiter: RateLimiter;
  memory: ThrottleMemory;
  /** The data center's cache; null where there is none. */
  cache: Cache | null;
  now?: () => number;
}): FailedAuthThrottle {
  const { limiter, memory, cache } = options;
  const now = options.now ?? Date.now;
  const cacheKey = (client: string) => new Request(`${CACHE_KEY_ORIGIN}/${encodeURIComponent(client)}`);
  const secondsLeft = (until: number) => Math.max(0, Math.ceil((until - now()) / 1000));

  function remember(client: string, until: number) {
    memory.delete(client);
    memory.set(client, until);
    if (memory.size > MAX_REMEMBERED_CLIENTS) memory.delete(memory.keys().next().value as string);
  }

  return {
    async throttledFor(client) {
      const known = memory.get(client);
      if (known !== undefined) {
        if (secondsLeft(known) > 0) return secondsLeft(known);
        memory.delete(client);
      }
      const cached = await cache?.match(cacheKey(client)).catch(() => undefined);
      if (!cached) return 0;
      const until = Number(await cached.text());
      if (!Number.isFinite(until) || secondsLeft(until) === 0) return 0;
      remember(client, until);
      return secondsLeft(until);
    },

    async recordFailure(client) {
      if (await limiter.allow(`auth-failure:${client}`)) return true;
      const until = now() + AUTH_THROTTLE_SECONDS * 1000;
      remember(client, until);
      await cache
        ?.put(cacheKey(client), new Response(String(until), { headers: { "Cache-Control": `max-age=${AUTH_THROTTLE_SECONDS}` } }))
        .catch(() => {});
      return false;
    },
  };
}
