import { beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LIMIT_RETRY_SECONDS } from "../src/delivery/client-limit";
import { api, countingRateLimit, freshIp, readProblem } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

/** Storage and the database unreachable: a request that needed either would fail with 5xx. */
const DEPENDENCIES_DOWN = { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" };

let image: UploadJson;
let path: string;
let directory: string;

beforeAll(async () => {
  const { key } = await freshProjectKey();
  image = (await upload(key.key, formWith(await imageFile("png", 120, 80), "limited.png"))).data as UploadJson;
  path = new URL(image.url).pathname;
  directory = path.slice(0, path.lastIndexOf("/") + 1);
});

describe("a missing image's 404", () => {
  it("is remembered, so repeats cost no database or storage call", async () => {
    const missing = `${directory}${crypto.randomUUID()}.png`;
    const first = await api(missing);
    expect(first.status).toBe(404);
    await first.body?.cancel();
    for (const query of ["", "?preset=thumbnail", "?utm_source=x"]) {
      const again = await api(`${missing}${query}`, { env: DEPENDENCIES_DOWN });
      expect(again.status, query).toBe(404);
      expect((await readProblem(again)).code).toBe("NOT_FOUND");
    }
  });

  it("is remembered when first asked for as a variant", async () => {
    const missing = `${directory}${crypto.randomUUID()}.png`;
    const first = await api(`${missing}?preset=small`);
    expect(first.status).toBe(404);
    await first.body?.cancel();
    const again = await api(missing, { env: DEPENDENCIES_DOWN });
    expect(again.status).toBe(404);
    await again.body?.cancel();
  });
});

describe("the per-client limit on public work", () => {
  it("refuses a client's image misses beyond its budget with 429 and Retry-After, never its cache hits", async () => {
    const ip = freshIp();
    const env = { PUBLIC_IP_LIMITER: countingRateLimit(2) };
    const other = (await upload((await freshProjectKey()).key.key, formWith(await imageFile("png", 40, 40), "x.png")))
      .data as UploadJson;
    const otherPath = new URL(other.url).pathname;
    // Two misses: the original (now cached) and a variant.
    for (const url of [otherPath, `${otherPath}?preset=thumbnail`]) {
      const response = await api(url, { ip, env });
      expect(response.status, url).toBe(200);
      await response.arrayBuffer();
    }
    const refused = await api(`${directory}${crypto.randomUUID()}.png`, { ip, env });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(CLIENT_LIMIT_RETRY_SECONDS));
    const problem = await readProblem(refused);
    expect(problem.code).toBe("TOO_MANY_REQUESTS");
    expect(problem.detail).toMatch(/uncached image requests/);
    const transform = await api(`${path}?preset=small&format=webp`, { ip, env });
    expect(transform.status).toBe(429);
    await transform.body?.cancel();

    // Cache hits cost nothing and are never counted.
    for (const url of [otherPath, `${otherPath}?preset=thumbnail`, `${otherPath}?utm_source=x`]) {
      const hit = await api(url, { ip, env });
      expect(hit.status, url).toBe(200);
      expect(hit.headers.get("x-cache"), url).toBe("HIT");
      await hit.body?.cancel();
    }
    // Another client has a budget of its own.
    const elsewhere = await api(`${path}?preset=small&format=webp`, { env });
    expect(elsewhere.status).toBe(200);
    await elsewhere.body?.cancel();
  });
});
