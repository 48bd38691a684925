import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { signPath, verifySignedPath } from "../src/delivery/signed-url";
import { api, deadUrl, readProblem, testEnv } from "./support/app";
import { withDb } from "./support/fixtures";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

let image: UploadJson;
let bytes: Uint8Array;
let path: string;
let projectKey: string;

beforeAll(async () => {
  const { key } = await freshProjectKey();
  projectKey = key.key;
  bytes = await imageFile("png", 120, 80);
  image = (await upload(key.key, formWith(bytes, "sunset.png"))).data as UploadJson;
  path = new URL(image.url).pathname;
});

describe("GET /api/images/{org}/{project}/{category}/{file}", () => {
  it("serves the object with exact headers, then from the edge cache without touching storage", async () => {
    const first = await api(path);
    expect(first.status).toBe(200);
    expect(Object.fromEntries([...first.headers].filter(([name]) => name !== "x-request-id" && name !== "date"))).toEqual({
      "accept-ranges": "bytes",
      "cache-control": "public, max-age=31536000, immutable",
      "content-disposition": 'inline; filename="sunset.png"',
      "content-length": String(bytes.byteLength),
      "content-type": "image/png",
      etag: expect.stringMatching(/^"[\w-]+"$/),
      "last-modified": expect.stringMatching(/GMT$/),
      "x-cache": "MISS",
      "x-content-type-options": "nosniff",
    });
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(bytes);

    // With storage unreachable and the database gone, only the cache can answer.
    const second = await api(path, {
      env: { S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" },
    });
    expect(second.status).toBe(200);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await api(path, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe(String(bytes.byteLength));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 304 to a matching If-None-Match or If-Modified-Since", async () => {
    const etag = (await api(path, { method: "HEAD" })).headers.get("etag") as string;
    const byTag = await api(path, { headers: { "If-None-Match": `W/${etag}, "other"` } });
    expect(byTag.status).toBe(304);
    expect(byTag.headers.get("etag")).toBe(etag);
    expect((await byTag.arrayBuffer()).byteLength).toBe(0);

    const byDate = await api(path, { headers: { "If-Modified-Since": new Date(Date.now() + 60_000).toUTCString() } });
    expect(byDate.status).toBe(304);
    const stale = await api(path, { headers: { "If-None-Match": '"not-it"' } });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
  });

  it("serves byte ranges with 206 and refuses unsatisfiable ones with 416", async () => {
    const head = await api(path, { headers: { Range: "bytes=0-99" } });
    expect(head.status).toBe(206);
    expect(head.headers.get("content-range")).toBe(`bytes 0-99/${bytes.byteLength}`);
    expect(new Uint8Array(await head.arrayBuffer())).toEqual(bytes.slice(0, 100));

    const tail = await api(path, { headers: { Range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.slice(-10));

    const beyond = await api(path, { headers: { Range: `bytes=${bytes.byteLength}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${bytes.byteLength}`);
    await beyond.body?.cancel();
  });

  it("answers 404 for paths that do not exist or try to escape", async () => {
    const [org, project] = path.split("/").slice(3, 5);
    const attempts = [
      `/api/images/${org}/${project}/uploads/nope.png`,
      `/api/images/${org}/${project}/uploads/..%2F..%2Fsecret.png`,
      `/api/images/${org}/${project}/uploads/%2e%2e%2fsecret.png`,
      `/api/images/${org}/${project}/uploads/a%5c..%5csecret.png`,
      `/api/images/${org}/${project}/uploads/a%00.png`,
      `/api/images/${org}/${project}/secrets/x.png`,
      `/api/images/${org}/..%2Fother/uploads/x.png`,
      `/api/images/${org}/${project}/uploads/x.svg`,
    ];
    for (const attempt of attempts) {
      const response = await api(attempt);
      const problem = await readProblem(response);
      expect(response.status, attempt).toBe(404);
      expect(problem.code).toBe("NOT_FOUND");
      expect(problem.detail).toBe("No such image");
    }
  });
});

describe("temporary URLs and private projects", () => {
  async function temporaryUrl(key: string, id: string, expiresIn?: number) {
    const response = await api(`/api/images/${id}/temporary-url`, { key, body: expiresIn === undefined ? {} : { expiresIn } });
    return { response, url: ((await response.json()) as Partial<ApiBody<"createTemporaryUrl", 201>>).data?.url ?? "" };
  }

  it("signs a URL that serves the image until it expires, and refuses tampering", async () => {
    const { url, response } = await temporaryUrl(projectKey, image.id, 600);
    expect(response.status).toBe(201);
    const signed = new URL(url);
    expect(signed.searchParams.get("expires")).toMatch(/^\d+$/);

    const ok = await api(`${signed.pathname}${signed.search}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    await ok.body?.cancel();

    const later = String(Number(signed.searchParams.get("expires")) + 3600);
    const tamperedExpiry = await api(`${signed.pathname}?expires=${later}&sig=${signed.searchParams.get("sig")}`);
    expect(tamperedExpiry.status).toBe(403);
    expect((await readProblem(tamperedExpiry)).code).toBe("INVALID_SIGNATURE");

    const otherPath = signed.pathname.replace(/[0-9a-f-]{36}/, crypto.randomUUID());
    const tamperedPath = await api(`${otherPath}${signed.search}`);
    expect(tamperedPath.status).toBe(403);
    await tamperedPath.body?.cancel();
  });

  it("refuses an expired URL", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { url } = await temporaryUrl(projectKey, image.id, 1);
    const after = Math.ceil(Date.now() / 1000);
    const signed = new URL(url);
    const expires = Number(signed.searchParams.get("expires"));
    expect(expires).toBeGreaterThanOrEqual(before + 1);
    expect(expires).toBeLessThanOrEqual(after + 1);
    // On a clock of the test's own, the URL the API signed is valid up to its expiry and not from then on.
    const checkAt = (ms: number) =>
      verifySignedPath(testEnv.URL_SIGNING_SECRET, signed.pathname, String(expires), signed.searchParams.get("sig") ?? "", {
        now: () => ms,
      });
    expect(await checkAt(expires * 1000 - 1)).toBe("valid");
    expect(await checkAt(expires * 1000)).toBe("expired");

    // The server refuses a correctly signed URL whose time has passed, without waiting for one to age.
    const past = before - 10;
    const stale = await api(
      `${signed.pathname}?expires=${past}&sig=${await signPath(testEnv.URL_SIGNING_SECRET, signed.pathname, past)}`,
    );
    expect(stale.status).toBe(403);
    expect((await readProblem(stale)).code).toBe("URL_EXPIRED");
  });

  it("limits lifetimes to 7 days", async () => {
    const { response } = await temporaryUrl(projectKey, image.id, 7 * 24 * 3600 + 1);
    expect(response.status).toBe(400);
  });

  it("serves a private project's images only through temporary URLs", async () => {
    const { key, scope } = await freshProjectKey();
    const { data } = await upload(key.key, formWith(await imageFile("webp"), "secret-plan.webp"));
    const imagePath = new URL(data?.url ?? "").pathname;
    // Cached while public...
    await (await api(imagePath)).arrayBuffer();
    expect((await api(imagePath)).headers.get("x-cache")).toBe("HIT");

    const master = await withDb(async (db) => (await import("./support/fixtures")).insertKey(db, { type: "master" }));
    const made = await api(`/api/admin/projects/${scope.project.id}`, {
      method: "PATCH",
      key: master.key,
      body: { private: true },
    });
    expect(made.status).toBe(200);

    // ...purged when the project turns private.
    const plain = await api(imagePath);
    expect(plain.status).toBe(404);
    await plain.body?.cancel();
    const { url } = await temporaryUrl(key.key, data?.id as string, 60);
    const signed = new URL(url);
    const viaSigned = await api(`${signed.pathname}${signed.search}`);
    expect(viaSigned.status).toBe(200);
    await viaSigned.body?.cancel();
  });
});

describe("DELETE /api/images/{id}", () => {
  it("removes the object, the cached copy and the listing entry; the URL then answers 404", async () => {
    const { key } = await freshProjectKey();
    const { data } = await upload(key.key, formWith(await imageFile("jpeg"), "gone.jpg"));
    const imagePath = new URL(data?.url ?? "").pathname;
    await (await api(imagePath)).arrayBuffer();
    expect((await api(imagePath)).headers.get("x-cache")).toBe("HIT");

    const deleted = await api(`/api/images/${data?.id}`, { method: "DELETE", key: key.key });
    expect(deleted.status).toBe(200);
    const after = await api(imagePath);
    expect(after.status).toBe(404);
    await after.body?.cancel();
    const listed = (await (await api("/api/images/uploads", { key: key.key })).json()) as ApiBody<"listUploadedImages", 200>;
    expect(listed.data).toEqual([]);
    const again = await api(`/api/images/${data?.id}`, { method: "DELETE", key: key.key });
    expect(again.status).toBe(404);
    await again.body?.cancel();
  });

  it("is all or nothing: when storage refuses, the image stays intact and a retry deletes it", async () => {
    const { key } = await freshProjectKey();
    const { data } = await upload(key.key, formWith(await imageFile("png"), "kept.png"));
    const imagePath = new URL(data?.url ?? "").pathname;
    await (await api(imagePath)).arrayBuffer();
    expect((await api(imagePath)).headers.get("x-cache")).toBe("HIT");

    const refused = await api(`/api/images/${data?.id}`, {
      method: "DELETE",
      key: key.key,
      env: { S3_ENDPOINT: deadUrl(testEnv.S3_ENDPOINT) },
    });
    expect(refused.status).toBe(503);
    expect((await readProblem(refused)).code).toBe("STORAGE_UNAVAILABLE");
    // Still served, from storage: the edge copy was purged even though the delete failed.
    const served = await api(imagePath);
    expect(served.status).toBe(200);
    expect(served.headers.get("x-cache")).toBe("MISS");
    await served.arrayBuffer();
    const listed = (await (await api("/api/images/uploads", { key: key.key })).json()) as ApiBody<"listUploadedImages", 200>;
    expect(listed.data.map((image) => image.id)).toEqual([data?.id]);

    const retried = await api(`/api/images/${data?.id}`, { method: "DELETE", key: key.key });
    expect(retried.status).toBe(200);
    await retried.body?.cancel();
    const gone = await api(imagePath);
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });
});
