/**
 * A clock that tests drive instead of waiting on the wall: `sleep` waits for the clock, and `run`
 * moves the clock to each pending timer in time order, letting what it wakes run before the next,
 * until the given promise settles. Code under test takes `{ now, sleep }` as its clock.
 */
export function fakeClock(start = 1_000_000) {
  let now = start;
  const timers: { at: number; wake: () => void }[] = [];
  // One macrotask turn: every promise chain woken so far runs before the clock moves on.
  const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => timers.push({ at: now + ms, wake })),
    /** Milliseconds of clock time since the start. */
    elapsed: () => now - start,
    async run<T>(promise: Promise<T>): Promise<T> {
      let settled = false;
      promise.then(
        () => (settled = true),
        () => (settled = true),
      );
      await settle();
      while (!settled) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) throw new Error("The promise waits on something other than the clock");
        now = Math.max(now, next.at);
        next.wake();
        await settle();
      }
      return promise;
    },
  };
}
