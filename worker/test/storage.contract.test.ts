import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { AppError } from "../src/lib/errors";
import { type ObjectStore, RangeNotSatisfiableError } from "../src/storage/object-store";
import { createR2ObjectStore } from "../src/storage/r2-object-store";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { deadUrl, testEnv } from "./support/app";

const s3Settings = () => {
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("the test stack uses the s3 driver");
  return storage.s3;
};

const adapters: [string, () => ObjectStore][] = [
  ["S3 API (aws4fetch against the S3-protocol server)", () => createS3ObjectStore(s3Settings())],
  ["R2 binding", () => createR2ObjectStore(testEnv.IMAGES_BUCKET)],
];

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(bytes(chunk));
      controller.close();
    },
  });

describe.each(adapters)("ObjectStore contract: %s", (_name, create) => {
  const store = create();
  // Each test writes under its own prefix, so tests never see each other's objects.
  const prefix = () => `contract/${crypto.randomUUID()}`;

  it("stores bytes with their content type and metadata, and reads them back", async () => {
    const key = `${prefix()}/café photo.png`;
    const put = await store.put(key, bytes("hello image"), {
      contentType: "image/png",
      metadata: { "original-filename": "Été à Paris.png", sha256: "abc123" },
    });
    expect(put.size).toBe(11);
    expect(put.etag).toMatch(/^[\w-]+$/);

    const object = await store.get(key);
    expect(object).not.toBeNull();
    expect(await text(object!.body)).toBe("hello image");
    expect(object).toMatchObject({
      key,
      size: 11,
      etag: put.etag,
      contentType: "image/png",
      metadata: { "original-filename": "Été à Paris.png", sha256: "abc123" },
    });
    expect(object!.range).toBeUndefined();
    expect(Date.now() - object!.uploaded.getTime()).toBeLessThan(60_000);
  });

  it("answers head with the object's info, and null for a missing object", async () => {
    const key = `${prefix()}/a.webp`;
    await store.put(key, "0123456789", { contentType: "image/webp", metadata: { category: "uploads" } });

    const info = await store.head(key);
    expect(info).toMatchObject({ key, size: 10, contentType: "image/webp", metadata: { category: "uploads" } });
    expect(info).not.toHaveProperty("body");
    expect(await store.head(`${key}.missing`)).toBeNull();
    expect(await store.get(`${key}.missing`)).toBeNull();
  });

  it("streams a body of known size without buffering, and buffers one of unknown size", async () => {
    const known = `${prefix()}/known`;
    await store.put(known, streamOf("abc", "def", "ghi"), { contentType: "application/octet-stream", size: 9 });
    expect(await text((await store.get(known))!.body)).toBe("abcdefghi");

    const unknown = `${prefix()}/unknown`;
    const put = await store.put(unknown, streamOf("12", "345"), { contentType: "text/plain" });
    expect(put.size).toBe(5);
    expect(await text((await store.get(unknown))!.body)).toBe("12345");
  });

  it("rejects a stream shorter than its declared size and stores nothing", async () => {
    const key = `${prefix()}/short`;
    await expect(store.put(key, streamOf("abc"), { contentType: "text/plain", size: 10 })).rejects.toThrow();
    expect(await store.head(key)).toBeNull();
  });

  it("reads byte ranges: offset and length, open-ended, and suffix", async () => {
    const key = `${prefix()}/digits`;
    await store.put(key, "0123456789", { contentType: "text/plain" });

    const middle = await store.get(key, { range: { offset: 2, length: 3 } });
    expect(await text(middle!.body)).toBe("234");
    expect(middle!.range).toEqual({ offset: 2, length: 3 });
    expect(middle!.size).toBe(10);

    const tail = await store.get(key, { range: { offset: 7 } });
    expect(await text(tail!.body)).toBe("789");
    expect(tail!.range).toEqual({ offset: 7, length: 3 });

    const suffix = await store.get(key, { range: { suffix: 4 } });
    expect(await text(suffix!.body)).toBe("6789");
    expect(suffix!.range).toEqual({ offset: 6, length: 4 });

    const clamped = await store.get(key, { range: { offset: 8, length: 100 } });
    expect(await text(clamped!.body)).toBe("89");
    expect(clamped!.range).toEqual({ offset: 8, length: 2 });
  });

  it("refuses a range that starts beyond the end, telling the object's size", async () => {
    const key = `${prefix()}/short-file`;
    await store.put(key, "0123", { contentType: "text/plain" });

    const attempt = store.get(key, { range: { offset: 4, length: 2 } });
    await expect(attempt).rejects.toBeInstanceOf(RangeNotSatisfiableError);
    await expect(attempt).rejects.toMatchObject({ size: 4 });
  });

  it("deletes objects, and deleting a missing object is not an error", async () => {
    const key = `${prefix()}/to-delete`;
    await store.put(key, "x", { contentType: "text/plain" });
    await store.delete(key);
    expect(await store.head(key)).toBeNull();
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it("lists by prefix in key order, page by page, without mixing in other prefixes", async () => {
    const base = prefix();
    const keys = ["a", "b", "c", "d", "e"].map((name) => `${base}/list/${name}.png`);
    await Promise.all(keys.map((key) => store.put(key, key, { contentType: "image/png" })));
    await store.put(`${base}/other/z.png`, "z", { contentType: "image/png" });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ prefix: `${base}/list/`, limit: 2, cursor });
      expect(page.objects.length).toBeLessThanOrEqual(2);
      seen.push(...page.objects.map((object) => object.key));
      for (const object of page.objects) expect(object.size).toBe(object.key.length);
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual(keys);
    expect(pages).toBe(3);
  });

  it("lists the keys after a given key, continuing page by page", async () => {
    const base = prefix();
    const keys = ["a", "b", "c", "d"].map((name) => `${base}/${name}.png`);
    await Promise.all(keys.map((key) => store.put(key, key, { contentType: "image/png" })));

    const first = await store.list({ prefix: `${base}/`, startAfter: `${base}/a.png`, limit: 2 });
    expect(first.objects.map((object) => object.key)).toEqual(keys.slice(1, 3));
    const rest = await store.list({ prefix: `${base}/`, startAfter: `${base}/a.png`, limit: 2, cursor: first.cursor });
    expect(rest.objects.map((object) => object.key)).toEqual(keys.slice(3));
    expect(rest.cursor).toBeUndefined();
    // A key between two stored ones works as well as a stored one.
    const between = await store.list({ prefix: `${base}/`, startAfter: `${base}/b.png-`, limit: 10 });
    expect(between.objects.map((object) => object.key)).toEqual(keys.slice(2));
  });

  it("refuses metadata names that S3 and R2 would store differently, storing nothing", async () => {
    const key = `${prefix()}/bad-meta`;
    await expect(store.put(key, "x", { contentType: "text/plain", metadata: { OriginalName: "a" } })).rejects.toThrow(
      /lower-case/,
    );
    expect(await store.head(key)).toBeNull();
  });
});

describe("S3 adapter failures", () => {
  it("reports an unreachable server as STORAGE_UNAVAILABLE", async () => {
    const store = createS3ObjectStore({ ...s3Settings(), endpoint: deadUrl(testEnv.S3_ENDPOINT) });
    const attempt = store.head("anything");
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE", status: 503 });
  });

  it("is refused by the server when the signature is wrong, so credentials are really checked", async () => {
    const store = createS3ObjectStore({ ...s3Settings(), secretAccessKey: "not-the-secret" });
    await expect(store.put("contract/forged", "x", { contentType: "text/plain" })).rejects.toMatchObject({
      code: "STORAGE_UNAVAILABLE",
      message: expect.stringContaining("403"),
    });
    expect(await createS3ObjectStore(s3Settings()).head("contract/forged")).toBeNull();
  });
});
