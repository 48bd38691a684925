import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createTransformGate } from "../src/images/transform/gate";
import { TRANSFORM_LEASE_MS } from "../src/images/transform/limits";
import { api, freshIp } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

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

  it("lets a waiter's place lapse at its deadline, so dropped waiters do not fill the queue", async () => {
    const exclusively = createTransformGate({ leaseMs: 300, maxWaiting: 1, maxWaitMs: 50 });
    void exclusively(abandoned);
    // A waiter that gives up (503) after 50 ms; its place must not stay counted.
    await expect(exclusively(async () => "waiter")).rejects.toMatchObject({ code: "TRANSFORM_BUSY" });
    await sleep(300);
    await expect(exclusively(async () => "later")).resolves.toBe("later");
  });
});

describe("transformations after clients went away mid-transformation", () => {
  const paths: string[] = [];

  beforeAll(async () => {
    const { key } = await freshProjectKey();
    for (const name of ["big-1.jpg", "big-2.jpg", "big-3.jpg"]) {
      const image = (await upload(key.key, formWith(await imageFile("jpeg", 2000, 1500), name))).data as UploadJson;
      paths.push(new URL(image.url).pathname);
    }
  });

  it(
    "still succeed: an aborted request never wedges the isolate into 503 TRANSFORM_BUSY",
    async () => {
      // Distinct variants (none answered from the cache), each aborted 10 ms later than the last,
      // so the aborts land before, during and after the transformation.
      const variants = paths.flatMap((path) =>
        ["thumbnail", "small", "medium", "large"].flatMap((preset) =>
          ["png", "jpeg", "webp"].map((format) => `${path}?preset=${preset}&format=${format}`),
        ),
      );
      for (const [index, url] of variants.entries()) {
        const controller = new AbortController();
        const request = exports.default
          .fetch(`http://banatie.test${url}`, { signal: controller.signal, headers: { "CF-Connecting-IP": freshIp() } })
          .catch((error: unknown) => error);
        await sleep(10 + index * 10);
        controller.abort();
        const outcome = await request;
        if (outcome instanceof Response) await outcome.body?.cancel();
      }
      const next = await api(`${paths[0]}?preset=small&format=webp`);
      expect(next.status).toBe(200);
      await next.body?.cancel();
    },
    TRANSFORM_LEASE_MS * 6,
  );
});
