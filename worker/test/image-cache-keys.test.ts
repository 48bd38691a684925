import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { api, readProblem } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

/** Storage and the database unreachable: only the edge cache (or nothing) can answer. */
const DEPENDENCIES_DOWN = { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" };

let projectKey: string;
let image: UploadJson;
let path: string;
let file: string;
let directory: string;
let signedVariant: string;

async function expectNoImage(url: string, env: Record<string, unknown> = {}) {
  const response = await api(url, { env });
  expect(response.status, url).toBe(404);
  expect(response.headers.get("x-cache"), url).toBeNull();
  expect((await readProblem(response)).code, url).toBe("NOT_FOUND");
}

beforeAll(async () => {
  projectKey = (await freshProjectKey()).key.key;
  image = (await upload(projectKey, formWith(await imageFile("jpeg", 160, 90), "keys.jpg"))).data as UploadJson;
  path = new URL(image.url).pathname;
  file = path.split("/").pop() as string;
  directory = path.slice(0, -file.length);

  // Warm the edge cache with the original and with a legitimately signed variant.
  const original = await api(path);
  expect(original.headers.get("x-cache")).toBe("MISS");
  await original.arrayBuffer();
  const signing = await api(`/api/images/${image.id}/transform-url`, {
    method: "POST",
    key: projectKey,
    body: { options: "w=80&h=45&format=jpeg" },
  });
  expect(signing.status).toBe(201);
  const signedUrl = new URL(((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url);
  signedVariant = `${signedUrl.pathname}${signedUrl.search}`;
  const variant = await api(signedVariant);
  expect(variant.status).toBe(200);
  await variant.arrayBuffer();
  const again = await api(signedVariant);
  expect(again.headers.get("x-cache")).toBe("HIT");
  await again.body?.cancel();
});

describe("edge-cache keys come only from the validated, canonical request", () => {
  it("never serves a signed variant to a URL that smuggles its options into the file name", async () => {
    await expectNoImage(`${path}%3Fw=80%26h=45%26format=jpeg`);
    await expectNoImage(`${path}%3fw=80%26h=45%26format=jpeg`, DEPENDENCIES_DOWN);
  });

  it("never reaches the original through an encoded dot-dot segment", async () => {
    await expectNoImage(`${directory}x%2F..%2F${file}`);
    await expectNoImage(`${directory}x%2f..%2f${file}`, DEPENDENCIES_DOWN);
  });

  it("answers 404, touching no cache, storage or database, for encoded characters the grammar leaves out, in each segment", async () => {
    const [, , , org, project, category] = path.split("/");
    const stem = file.replace(/\.jpg$/, "");
    const attempts = [
      // In the file name: each character the grammar leaves out, encoded, in both cases of hex.
      ...["%3F", "%2F", "%2f", "%5C", "%5c", "%23", "%25", "%00", "%20", "%2E"].map((code) => `${stem}${code}.jpg`),
      `${stem}%2Ejpg`,
      `${stem}.jp%67`,
      `%2E%2E%2F${file}`,
      `..%5C${file}`,
      `${file}%23fragment`,
      `${file}%3F`,
      `${file}%2500`,
    ].map((name) => `${directory}${name}`);
    attempts.push(
      `/api/images/${org}%2F${project}/${category}/${file}`,
      `/api/images/${org}/${project}%2F..%2F${project}/${category}/${file}`,
      `/api/images/${org}/${project}/${category}%3F/${file}`,
      `/api/images/%${(org as string).charCodeAt(0).toString(16)}${org?.slice(1)}/${project}/${category}/${file}`,
      `/api/images/${org}/${project}/upload%73/${file}`,
    );
    for (const attempt of attempts) {
      await expectNoImage(attempt, DEPENDENCIES_DOWN);
      await expectNoImage(`${attempt}?preset=thumbnail`, DEPENDENCIES_DOWN);
    }
    // The canonical URLs still answer from the cache.
    const hit = await api(path, { env: DEPENDENCIES_DOWN });
    expect(hit.headers.get("x-cache")).toBe("HIT");
    await hit.body?.cancel();
  });

  it("checks signed-only sizes before the cache: a cached signed variant needs its signature", async () => {
    const unsigned = await api(`${path}?w=80&h=45&format=jpeg`);
    expect(unsigned.status).toBe(403);
    expect((await readProblem(unsigned)).code).toBe("SIGNATURE_REQUIRED");

    const sig = new URL(`http://x${signedVariant}`).searchParams.get("sig") as string;
    const wrong = `${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    const tampered = await api(`${path}?w=80&h=45&format=jpeg&sig=${wrong}`);
    expect(tampered.status).toBe(403);
    expect((await readProblem(tampered)).code).toBe("INVALID_SIGNATURE");
  });
});

describe("watermark=0 on a project that watermarks by default", () => {
  it("is refused without a signature even when the signed variant is in the cache", async () => {
    const { key } = await freshProjectKey();
    const photo = (await upload(key.key, formWith(await imageFile("png", 200, 150), "photo.png"))).data as UploadJson;
    const mark = (await upload(key.key, formWith(await imageFile("png", 20, 10), "mark.png"))).data as UploadJson;
    const saved = await api("/api/project/image-settings", {
      method: "PUT",
      key: key.key,
      body: { watermark: { imageId: mark.id }, watermarkByDefault: true },
    });
    expect(saved.status).toBe(200);

    const signing = await api(`/api/images/${photo.id}/transform-url`, {
      method: "POST",
      key: key.key,
      body: { options: "preset=thumbnail&watermark=0" },
    });
    const signed = new URL(((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url);
    const warm = await api(`${signed.pathname}${signed.search}`);
    expect(warm.status).toBe(200);
    await warm.arrayBuffer();
    const cached = await api(`${signed.pathname}${signed.search}`);
    expect(cached.headers.get("x-cache")).toBe("HIT");
    await cached.body?.cancel();

    const photoPath = new URL(photo.url).pathname;
    for (const query of ["preset=thumbnail&watermark=0", "watermark=0&preset=thumbnail", "preset=thumbnail&watermark=false"]) {
      const unsigned = await api(`${photoPath}?${query}`);
      expect(unsigned.status, query).toBe(403);
      expect(unsigned.headers.get("x-cache"), query).toBeNull();
      expect((await readProblem(unsigned)).code, query).toBe("SIGNATURE_REQUIRED");
    }
  });
});
