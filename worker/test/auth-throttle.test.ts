import { describe, expect, it } from "vitest";
import { failedAuthThrottle } from "../src/rate-limit/auth-throttle";
import { bindingRateLimiter } from "../src/rate-limit/rate-limiter";
import { countingRateLimit, freshIp } from "./support/app";

describe("failed-authentication throttle", () => {
  it("remembers a refused client in the data center's cache, so other isolates refuse it too, until it expires", async () => {
    const client = freshIp();
    let clock = Date.now();
    const now = () => clock;
    const limiter = bindingRateLimiter(countingRateLimit(1));
    const first = failedAuthThrottle({ limiter, memory: new Map(), cache: caches.default, now });
    // Another isolate: memory of its own, the same cache and binding.
    const second = failedAuthThrottle({ limiter, memory: new Map(), cache: caches.default, now });

    expect(await first.recordFailure(client)).toBe(true);
    expect(await second.throttledFor(client)).toBe(0);
    expect(await first.recordFailure(client)).toBe(false);
    expect(await first.throttledFor(client)).toBe(60);
    expect(await second.throttledFor(client)).toBe(60);
    expect(await second.throttledFor(freshIp())).toBe(0);

    clock += 61_000;
    expect(await first.throttledFor(client)).toBe(0);
    expect(await second.throttledFor(client)).toBe(0);
  });
});
