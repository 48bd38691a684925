import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

/** Storage and the database unreachable: only the edge cache can answer. */
const DEPENDENCIES_DOWN = { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" };
const TRACKING = "utm_source=newsletter&utm_medium=email&fbclid=IwAR0abc&gclid=Cj0K&width=100&ref=";

let projectKey: string;
let image: UploadJson;
let path: string;
let bytes: Uint8Array;

beforeAll(async () => {
  projectKey = (await freshProjectKey()).key.key;
  bytes = await imageFile("png", 300, 200);
  image = (await upload(projectKey, formWith(bytes, "shared.png"))).data as UploadJson;
  path = new URL(image.url).pathname;
});

describe("parameters outside the transformation grammar on image URLs", () => {
  it("are ignored for an original: the same bytes, from the same cache entry", async () => {
    const first = await api(`${path}?utm_source=x`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);

    for (const query of ["", "?utm_source=x", `?${TRACKING}`, "?fbclid=1&fbclid=2"]) {
      const again = await api(`${path}${query}`, { env: DEPENDENCIES_DOWN });
      expect(again.status, query).toBe(200);
      expect(again.headers.get("x-cache"), query).toBe("HIT");
      expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
    }
  });

  it("are ignored for an unsigned preset, which answers from the preset's entry", async () => {
    const preset = await api(`${path}?preset=thumbnail`);
    expect(preset.status).toBe(200);
    const presetBytes = new Uint8Array(await preset.arrayBuffer());
    const tracked = await api(`${path}?${TRACKING}&preset=thumbnail`, { env: DEPENDENCIES_DOWN });
    expect(tracked.status).toBe(200);
    expect(tracked.headers.get("x-cache")).toBe("HIT");
    expect(new Uint8Array(await tracked.arrayBuffer())).toEqual(presetBytes);
  });

  it("are not part of a signature: a signed URL with tracking parameters appended still verifies", async () => {
    const signing = await api(`/api/images/${image.id}/transform-url`, {
      method: "POST",
      key: projectKey,
      body: { options: "w=60&format=webp" },
    });
    expect(signing.status).toBe(201);
    const signed = new URL(((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url);
    const shared = await api(`${signed.pathname}${signed.search}&fbclid=IwAR0abc&utm_source=social`);
    expect(shared.status).toBe(200);
    expect(shared.headers.get("content-type")).toBe("image/webp");
    await shared.arrayBuffer();
    // ...and shares the variant's cache entry with the URL as signed.
    const plain = await api(`${signed.pathname}${signed.search}`, { env: DEPENDENCIES_DOWN });
    expect(plain.headers.get("x-cache")).toBe("HIT");
    await plain.body?.cancel();
  });

  it("are ignored on a temporary URL too", async () => {
    const response = await api(`/api/images/${image.id}/temporary-url`, { key: projectKey, body: { expiresIn: 60 } });
    const temporary = new URL(((await response.json()) as ApiBody<"createTemporaryUrl", 201>).data.url);
    const shared = await api(`${temporary.pathname}${temporary.search}&gclid=Cj0K`);
    expect(shared.status).toBe(200);
    expect(new Uint8Array(await shared.arrayBuffer())).toEqual(bytes);
  });
});
