import { describe, expect, it } from "vitest";
import { createTransformGate } from "../src/images/transform/gate";
import { fakeClock } from "./support/fake-clock";

/** Work whose request was dropped: it never settles, so no `finally` of its caller ever runs. */
const abandoned = () => new Promise<never>(() => {});

describe("the transformation gate", () => {
  it("frees the slot when the holder's lease expires, even if its work never settles", async () => {
    const clock = fakeClock();
    const exclusively = createTransformGate({ leaseMs: 100, maxWaiting: 2, maxWaitMs: 1000 }, clock);
    void exclusively(abandoned);
    await expect(clock.run(exclusively(async () => "next"))).resolves.toBe("next");
    expect(clock.elapsed()).toBeGreaterThanOrEqual(100);
    expect(clock.elapsed()).toBeLessThan(110);
  });

  it("still runs one at a time while the holder's lease lasts", async () => {
    const exclusively = createTransformGate({ leaseMs: 10_000, maxWaiting: 0, maxWaitMs: 1000 });
    let release: () => void = () => {};
    const first = exclusively(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(exclusively(async () => "second")).rejects.toMatchObject({ code: "TRANSFORM_BUSY" });
    release();
    await first;
    await expect(exclusively(async () => "third")).resolves.toBe("third");
  });

  it("renews the lease for the work after slow reads, so a waiter never decodes alongside the holder", async () => {
    const clock = fakeClock();
    const exclusively = createTransformGate({ leaseMs: 200, maxWaiting: 1, maxWaitMs: 2000 }, clock);
    const events: string[] = [];
    const holder = exclusively(async (renew) => {
      await clock.sleep(150); // reading the source from slow storage
      renew();
      await clock.sleep(150); // decoding and encoding
      events.push("holder done");
    });
    const waiter = (async () => {
      await clock.sleep(10);
      await exclusively(async () => {
        events.push(`waiter started at ${clock.elapsed()} ms`);
      });
    })();
    await clock.run(Promise.all([holder, waiter]));
    expect(events).toEqual(["holder done", "waiter started at 300 ms"]);
  });

  it("refuses the holder with 503 once another request took the slot its lapsed lease left", async () => {
    const clock = fakeClock();
    const exclusively = createTransformGate({ leaseMs: 50, maxWaiting: 1, maxWaitMs: 2000 }, clock);
    const holder = exclusively(async (renew) => {
      await clock.sleep(200); // a read that outlived the lease
      renew();
      return "decoded";
    });
    const waiter = clock.sleep(10).then(() => exclusively(async () => "waiter"));
    const [held, waited] = await clock.run(Promise.allSettled([holder, waiter]));
    expect(waited).toEqual({ status: "fulfilled", value: "waiter" });
    expect(held).toMatchObject({ status: "rejected", reason: { code: "TRANSFORM_BUSY" } });
  });

  it("lets a waiter's place lapse at its deadline, so dropped waiters do not fill the queue", async () => {
    const clock = fakeClock();
    const exclusively = createTransformGate({ leaseMs: 300, maxWaiting: 1, maxWaitMs: 50 }, clock);
    void exclusively(abandoned);
    // A waiter that gives up (503) after 50 ms; its place must not stay counted.
    await expect(clock.run(exclusively(async () => "waiter"))).rejects.toMatchObject({ code: "TRANSFORM_BUSY" });
    expect(clock.elapsed()).toBe(50);
    // Once the abandoned holder's lease is over, the queue is empty and the slot free.
    await clock.run(clock.sleep(250));
    await expect(clock.run(exclusively(async () => "later"))).resolves.toBe("later");
    expect(clock.elapsed()).toBe(300);
  });
});
