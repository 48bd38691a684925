import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { imagePathOfUrl } from "../src/delivery/image-path";
import { buildDeliveryApp } from "../src/delivery-app";
import { api, readProblem } from "./support/app";
import { insertKey, withDb } from "./support/fixtures";
import { decodeImage, freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

/** The image delivery Worker, as wrangler.delivery.toml deploys it, beside the API in the same zone. */
const delivery = buildDeliveryApp();
const deliver = (path: string, request: Parameters<typeof api>[1] = {}) => api(path, { ...request, app: delivery });

let projectKey: string;
let projectId: string;
let image: UploadJson;
let bytes: Uint8Array;
let path: string;

beforeAll(async () => {
  const { scope, key } = await freshProjectKey();
  projectKey = key.key;
  projectId = scope.project.id;
  bytes = await imageFile("png", 300, 200);
  image = (await upload(projectKey, formWith(bytes, "delivered.png"))).data as UploadJson;
  path = new URL(image.url).pathname;
});

describe("the image delivery Worker", () => {
  it("serves an image the API stored, then from the edge cache with storage and the database down", async () => {
    const first = await deliver(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(first.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);

    const second = await deliver(path, {
      env: { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" },
    });
    expect(second.status).toBe(200);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);

    // The API Worker, in the same zone, answers from the entry delivery cached.
    const fromApi = await api(path);
    expect(fromApi.headers.get("x-cache")).toBe("HIT");
    expect(fromApi.headers.get("etag")).toBe(first.headers.get("etag"));
    await fromApi.body?.cancel();
  });

  it("answers conditionals and ranges as the API does", async () => {
    const etag = (await deliver(path, { method: "HEAD" })).headers.get("etag") as string;
    expect((await deliver(path, { headers: { "If-None-Match": etag } })).status).toBe(304);
    const range = await deliver(path, { headers: { Range: "bytes=0-9" } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(0, 10));
  });

  it("transforms: presets unsigned, arbitrary sizes with the API's signature", async () => {
    const thumbnail = await deliver(`${path}?preset=thumbnail&format=png`);
    expect(thumbnail.status).toBe(200);
    const thumb = await decodeImage(new Uint8Array(await thumbnail.arrayBuffer()), "image/png");
    expect(Math.max(thumb.width, thumb.height)).toBeLessThan(300);

    const unsigned = await deliver(`${path}?w=120`);
    expect((await readProblem(unsigned)).code).toBe("SIGNATURE_REQUIRED");

    const signing = await api(`/api/images/${image.id}/transform-url`, {
      method: "POST",
      key: projectKey,
      body: { options: "w=120&format=png" },
    });
    expect(signing.status).toBe(201);
    const signed = new URL(((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url);
    const resized = await deliver(`${signed.pathname}${signed.search}`);
    expect(resized.status).toBe(200);
    expect(await decodeImage(new Uint8Array(await resized.arrayBuffer()), "image/png")).toMatchObject({
      width: 120,
      height: 80,
    });
  });

  it("stops serving an image the API deleted: the API's purge reaches delivery's cache", async () => {
    const other = (await upload(projectKey, formWith(await imageFile("png", 40, 40), "gone.png"))).data as UploadJson;
    const otherPath = new URL(other.url).pathname;
    const cached = await deliver(otherPath);
    expect(cached.status).toBe(200);
    await cached.body?.cancel();
    expect((await deliver(otherPath)).headers.get("x-cache")).toBe("HIT");

    expect((await api(`/api/images/${other.id}`, { method: "DELETE", key: projectKey })).status).toBe(200);
    const gone = await deliver(otherPath);
    expect(gone.status).toBe(404);
    expect((await readProblem(gone)).code).toBe("NOT_FOUND");
  });

  it("has /health and no other endpoint: the API's routes are 404 and change nothing", async () => {
    const health = await deliver("/health");
    expect(health.status).toBe(200);
    await health.body?.cancel();

    const before = await imageRows();
    const uploading = await deliver("/api/upload", { key: projectKey, form: formWith(bytes, "nope.png") });
    expect(uploading.status).toBe(404);
    expect((await readProblem(uploading)).code).toBe("NOT_FOUND");
    expect(await imageRows()).toBe(before);

    for (const [method, route] of [
      ["POST", "/api/text-to-image"],
      ["GET", "/api/openapi.json"],
      ["GET", "/api/info"],
      ["GET", "/api/images"],
      ["DELETE", `/api/images/${image.id}`],
    ] as const) {
      const response = await deliver(route, { method, key: projectKey });
      expect(response.status, `${method} ${route}`).toBe(404);
      await response.body?.cancel();
    }
    expect((await deliver(path)).status).toBe(200);
  });
});

async function imageRows(project = projectId): Promise<number> {
  return withDb(
    async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from images where project_id = ${project}`)).rows[0]?.n ?? 0,
  );
}

/** The image CDN host of these tests; the API runs on another host (banatie.test). */
const CDN = "https://cdn.banatie.test";
const CDN_ENV = { PUBLIC_CDN_URL: CDN };
/** The storage key at the end of an image URL, whichever form it has. */
const keyOf = (url: string) => new URL(url).pathname.split("/").slice(-4).join("/");
/** The delivery Worker on the CDN host and the API on its own, both told where images live. */
const cdn = (url: string, request: Parameters<typeof api>[1] = {}) =>
  api(url, { ...request, app: delivery, env: { ...CDN_ENV, ...request.env } });
const apiWithCdn = (path: string, request: Parameters<typeof api>[1] = {}) =>
  api(path, { ...request, env: { ...CDN_ENV, ...request.env } });

describe("short image URLs on the CDN host (PUBLIC_CDN_URL)", () => {
  let key: string;
  let cdnImage: UploadJson;
  let cdnBytes: Uint8Array;
  let storageKey: string;
  let cdnProjectId: string;
  /** The short URL built from the storage key, as the CDN host must serve it. */
  let shortUrl: string;

  beforeAll(async () => {
    const fresh = await freshProjectKey();
    key = fresh.key.key;
    cdnProjectId = fresh.scope.project.id;
    cdnBytes = await imageFile("png", 300, 200);
    cdnImage = (await upload(key, formWith(cdnBytes, "short.png"), CDN_ENV)).data as UploadJson;
    storageKey = keyOf(cdnImage.url);
    shortUrl = `${CDN}/${storageKey}`;
  });

  it("the API returns upload URLs on the CDN host, as /{org}/{project}/{category}/{file}", () => {
    expect(cdnImage.url).toBe(shortUrl);
    expect(cdnImage.url).toMatch(/^https:\/\/cdn\.banatie\.test\/[a-z0-9-]+\/[a-z0-9-]+\/uploads\/[a-z0-9_-]+\.png$/);
  });

  it("the delivery Worker serves the short URL: bytes, ETag and 304, ranges, HEAD, then from the edge cache", async () => {
    const first = await cdn(shortUrl);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("image/png");
    expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(first.headers.get("x-cache")).toBe("MISS");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(cdnBytes);
    const etag = first.headers.get("etag") as string;
    expect(etag).toBeTruthy();

    const again = await cdn(shortUrl, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    const range = await cdn(shortUrl, { headers: { Range: "bytes=0-9" } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(cdnBytes.slice(0, 10));
    const head = await cdn(shortUrl, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(cdnBytes.length));

    const hit = await cdn(shortUrl, {
      env: { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" },
    });
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(cdnBytes);
  });

  it("serves transformation variants: a preset unsigned, an arbitrary size through the API's signed URL", async () => {
    const thumbnail = await cdn(`${shortUrl}?preset=thumbnail&format=png`);
    expect(thumbnail.status).toBe(200);
    const thumb = await decodeImage(new Uint8Array(await thumbnail.arrayBuffer()), "image/png");
    expect(Math.max(thumb.width, thumb.height)).toBeLessThan(300);

    const signing = await apiWithCdn(`/api/images/${cdnImage.id}/transform-url`, {
      key,
      body: { options: "w=120&format=png" },
    });
    expect(signing.status).toBe(201);
    const signed = ((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url;
    expect(signed.startsWith(`${shortUrl}?`)).toBe(true);
    const resized = await cdn(signed);
    expect(resized.status).toBe(200);
    expect(await decodeImage(new Uint8Array(await resized.arrayBuffer()), "image/png")).toMatchObject({ width: 120, height: 80 });
  });

  it("verifies the API's temporary URLs of a private project's images on the CDN host", async () => {
    const { key: privateKey, scope } = await freshProjectKey();
    const secret = (await upload(privateKey.key, formWith(await imageFile("png", 40, 40), "secret.png"), CDN_ENV))
      .data as UploadJson;
    const master = await withDb((db) => insertKey(db, { type: "master" }));
    const made = await apiWithCdn(`/api/admin/projects/${scope.project.id}`, {
      method: "PATCH",
      key: master.key,
      body: { private: true },
    });
    expect(made.status).toBe(200);
    await made.body?.cancel();

    const secretUrl = `${CDN}/${keyOf(secret.url)}`;
    expect(secret.url).toBe(secretUrl);
    const plain = await cdn(secretUrl);
    expect(plain.status).toBe(404);
    await plain.body?.cancel();

    const signing = await apiWithCdn(`/api/images/${secret.id}/temporary-url`, { key: privateKey.key, body: { expiresIn: 60 } });
    const temporary = ((await signing.json()) as ApiBody<"createTemporaryUrl", 201>).data.url;
    expect(temporary.startsWith(`${secretUrl}?`)).toBe(true);
    const served = await cdn(temporary);
    expect(served.status).toBe(200);
    expect(served.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    await served.body?.cancel();

    const tampered = new URL(temporary);
    tampered.searchParams.set("expires", String(Number(tampered.searchParams.get("expires")) + 3600));
    expect((await readProblem(await cdn(tampered.toString()))).code).toBe("INVALID_SIGNATURE");
  });

  it("keeps one cache entry per image whichever host served it, so the API's delete purges the CDN's copy", async () => {
    const gone = (await upload(key, formWith(await imageFile("png", 30, 30), "purged.png"), CDN_ENV)).data as UploadJson;
    const goneUrl = `${CDN}/${keyOf(gone.url)}`;
    const cached = await cdn(goneUrl);
    expect(cached.status).toBe(200);
    await cached.body?.cancel();
    // The API's own URL of the image, on the API's host, answers from the entry the CDN host stored.
    const viaApi = await apiWithCdn(`/api/images/${keyOf(gone.url)}`);
    expect(viaApi.headers.get("x-cache")).toBe("HIT");
    await viaApi.body?.cancel();

    expect((await apiWithCdn(`/api/images/${gone.id}`, { method: "DELETE", key })).status).toBe(200);
    const after = await cdn(goneUrl);
    expect(after.status).toBe(404);
    expect((await readProblem(after)).code).toBe("NOT_FOUND");
  });

  it("the API's listings and generations carry CDN URLs; without PUBLIC_CDN_URL they keep /api/images/ URLs", async () => {
    const listing = await apiWithCdn("/api/images/uploads", { key });
    const listed = ((await listing.json()) as ApiBody<"listUploadedImages", 200>).data;
    expect(listed.map((item) => item.url)).toContain(shortUrl);

    const generation = await apiWithCdn("/api/text-to-image", { key, body: { prompt: "a lighthouse at dusk" } });
    expect(generation.status).toBe(201);
    const generated = ((await generation.json()) as ApiBody<"textToImage", 201>).data.url;
    expect(generated).toMatch(/^https:\/\/cdn\.banatie\.test\/[a-z0-9-]+\/[a-z0-9-]+\/generated\/[a-z0-9_-]+\.(png|jpg|webp)$/);
    const served = await cdn(generated);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toMatch(/^image\/(png|jpeg|webp)$/);
    await served.body?.cancel();

    const plainListing = await api("/api/images/uploads", { key });
    const plain = ((await plainListing.json()) as ApiBody<"listUploadedImages", 200>).data;
    expect(plain.find((item) => item.id === cdnImage.id)?.url).toBe(`http://banatie.test/api/images/${storageKey}`);
  });

  it("answers 404 for the API's endpoints and hostile paths on the delivery Worker, touching nothing", async () => {
    const before = await imageRows(cdnProjectId);
    for (const [method, url] of [
      ["GET", `${CDN}/api/images/generated`],
      ["GET", `${CDN}/api/images/uploads`],
      ["POST", `${CDN}/api/images/${cdnImage.id}/temporary-url`],
      ["GET", `${CDN}/api/images/${cdnImage.id}/temporary-url`],
      ["POST", `${CDN}/api/images/${cdnImage.id}/transform-url`],
      ["DELETE", `${CDN}/api/images/${cdnImage.id}`],
      ["DELETE", shortUrl],
      ["PUT", shortUrl],
      ["POST", shortUrl],
      ["GET", `${CDN}/api/admin/health`],
      ["GET", `${CDN}/api/me`],
      ["GET", `${CDN}/api/info`],
      ["GET", `${CDN}/%2e%2e/%2e%2e/etc/passwd`],
      ["GET", `${CDN}/${storageKey.replace("/", "//")}`],
      ["GET", `${CDN}//${storageKey}`],
      ["GET", `${CDN}/${storageKey.replace("/", "%2F")}`],
      ["GET", `${CDN}/${storageKey.replace("/uploads/", "/uploads%2F")}`],
      ["GET", `${CDN}/${storageKey.replace(/\/([^/]+)$/, "/%2e%2e%2F$1")}`],
      ["GET", `${CDN}/${storageKey.replace(".png", "%2Epng")}`],
      ["GET", `${CDN}/${storageKey}%00`],
      ["GET", `${CDN}/${storageKey}/`],
    ] as const) {
      const response = await cdn(url, { method, key });
      expect(response.status, `${method} ${url}`).toBe(404);
      await response.body?.cancel();
    }
    expect(await imageRows(cdnProjectId)).toBe(before);
    expect((await cdn(shortUrl)).status).toBe(200);
  });

  it("refuses a PUBLIC_CDN_URL with a path, naming the setting", async () => {
    const response = await apiWithCdn("/api/info", { env: { PUBLIC_CDN_URL: "https://cdn.banatie.test/images" } });
    expect(response.status).toBe(500);
    expect((await readProblem(response)).detail).toContain("PUBLIC_CDN_URL");
  });
});

describe("reading an image from a URL in either form", () => {
  it("reads the API's form and the CDN's, even for a project `images` of an organization `api`", () => {
    expect(imagePathOfUrl("https://api.test/api/images/acme/site/generated/a1.png")?.key).toBe("acme/site/generated/a1.png");
    expect(imagePathOfUrl("https://cdn.test/acme/site/generated/a1.png")?.key).toBe("acme/site/generated/a1.png");
    expect(imagePathOfUrl("https://cdn.test/api/images/uploads/a1.webp")?.key).toBe("api/images/uploads/a1.webp");
    for (const url of [
      "https://cdn.test/api/images/generated",
      "https://cdn.test/acme/site/generated",
      "https://cdn.test/acme/site/elsewhere/a1.png",
      "https://cdn.test/x/api/images/acme/site/generated/a1.png",
      "https://cdn.test/acme/site/generated/a1.png/",
    ]) {
      expect(imagePathOfUrl(url), url).toBeNull();
    }
  });
});
