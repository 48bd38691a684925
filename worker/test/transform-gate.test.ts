import { describe, expect, it } from "vitest";
import { createTransformGate } from "../src/images/transform/gate";

/** Work whose request was dropped: it never settles, so no `finally` of its caller ever runs. */
const abandoned = () => new Promise<never>(() => {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the transformation gate", () => {
  it("frees the slot when the holder's lease expires, even if its work never settles", async () => {
    const exclusively = createTransformGate({ leaseMs: 100, maxWaiting: 2, maxWaitMs: 1000 });
    void exclusively(abandoned);
    const started = Date.now();
    await expect(exclusively(async () => "next")).resolves.toBe("next");
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
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
    const exclusively = createTransformGate({ leaseMs: 200, maxWaiting: 1, maxWaitMs: 2000 });
    const events: string[] = [];
    const holder = exclusively(async (renew) => {
      await sleep(150); // reading the source from slow storage
      renew();
      await sleep(150); // decoding and encoding
      events.push("holder done");
    });
    await sleep(10);
    await exclusively(async () => {
      events.push("waiter started");
    });
    await holder;
    expect(events).toEqual(["holder done", "waiter started"]);
  });

  it("refuses the holder with 503 once another request took the slot its lapsed lease left", async () => {
    const exclusively = createTransformGate({ leaseMs: 50, maxWaiting: 1, maxWaitMs: 2000 });
    const holder = exclusively(async (renew) => {
      await sleep(200); // a read that outlived the lease
      renew();
      return "decoded";
    });
    await sleep(10);
    await expect(exclusively(async () => "waiter")).resolves.toBe("waiter");
    await expect(holder).rejects.toMatchObject({ code: "TRANSFORM_BUSY" });
  });

  it("lets a waiter's place lapse at its deadline, so dropped waiters do not fill the queue", async () => {
    const exclusively = createTransformGate({ leaseMs: 300, maxWaiting: 1, maxWaitMs: 50 });
    void exclusively(abandoned);
    // A waiter that gives up (503) after 50 ms; its place must not stay counted.
    await expect(exclusively(async () => "waiter")).rejects.toMatchObject({ code: "TRANSFORM_BUSY" });
    await sleep(300);
    await expect(exclusively(async () => "later")).resolves.toBe("later");
  });
});
