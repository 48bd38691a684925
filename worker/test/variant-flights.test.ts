import { describe, expect, it } from "vitest";
import { createVariantFlights } from "../src/delivery/variant-flights";
import { MAX_WAITING_TRANSFORMS } from "../src/domain/limits";
import { api } from "./support/app";
import { fakeClock } from "./support/fake-clock";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

describe("variants in the making", () => {
  it("lets a request wait for a variant another request is making, until that one ends", async () => {
    const clock = fakeClock();
    const flights = createVariantFlights(1000, clock);
    expect(await flights.waitFor("thumb", 500)).toBe(false);

    const done = flights.begin("thumb");
    const waiting = flights.waitFor("thumb", 500);
    await clock.run(clock.sleep(120));
    done();
    expect(await clock.run(waiting)).toBe(true);
    expect(clock.elapsed()).toBeLessThan(140);
  });

  it("stops waiting at its own deadline, and at the maker's lease if the maker was dropped", async () => {
    const clock = fakeClock();
    const flights = createVariantFlights(300, clock);
    flights.begin("dropped"); // its request never ends it
    expect(await clock.run(flights.waitFor("dropped", 100))).toBe(false);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(100);
    expect(await clock.run(flights.waitFor("dropped", 1000))).toBe(true);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(300);
    expect(clock.elapsed()).toBeLessThan(320);
  });

  it("makes the first of requests arriving together the maker, and the others its waiters", () => {
    const flights = createVariantFlights(1000, fakeClock());
    const maker = flights.tryBegin("thumb");
    expect(maker).toBeTypeOf("function");
    expect(flights.tryBegin("thumb")).toBeNull();
    maker?.();
    expect(flights.tryBegin("thumb")).toBeTypeOf("function");
  });

  it("keeps a variant in the making while any of two makers still is", async () => {
    const clock = fakeClock();
    const flights = createVariantFlights(1000, clock);
    const first = flights.begin("thumb");
    const second = flights.begin("thumb");
    first();
    const waiting = flights.waitFor("thumb", 500);
    await clock.run(clock.sleep(50));
    second();
    expect(await clock.run(waiting)).toBe(true);
    expect(clock.elapsed()).toBeGreaterThanOrEqual(50);
  });
});

describe("a burst of requests for one uncached variant", () => {
  it("is answered whole, every one of them, from one transformation", async () => {
    const { key } = await freshProjectKey();
    const image = (await upload(key.key, formWith(await imageFile("png", 640, 480), "burst.png"))).data as UploadJson;
    const path = `${new URL(image.url).pathname}?preset=thumbnail`;
    // More at once than the isolate lets wait for its one transformation slot.
    const burst = MAX_WAITING_TRANSFORMS + 4;

    const responses = await Promise.all(Array.from({ length: burst }, () => api(path)));
    const bodies = await Promise.all(responses.map(async (response) => new Uint8Array(await response.arrayBuffer())));

    expect(responses.map((response) => response.status)).toEqual(Array(burst).fill(200));
    const misses = responses.filter((response) => response.headers.get("x-cache") === "MISS");
    expect(misses).toHaveLength(1);
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });
});
