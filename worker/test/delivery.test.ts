import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { buildDeliveryApp } from "../src/delivery-app";
import { api, readProblem } from "./support/app";
import { withDb } from "./support/fixtures";
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

async function imageRows(): Promise<number> {
  return withDb(
    async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from images where project_id = ${projectId}`)).rows[0]?.n ??
      0,
  );
}
