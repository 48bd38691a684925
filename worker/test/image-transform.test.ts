import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { signPath } from "../src/delivery/signed-url";
import { MAX_IMAGE_PIXELS, MAX_VARIANTS_PER_IMAGE } from "../src/domain/limits";
import { decodeImage, encodeImage, type RgbaImage } from "../src/images/codec";
import { api, readProblem, testEnv } from "./support/app";
import { withDb } from "./support/fixtures";
import { freshProjectKey } from "./support/generation";
import { formWith, type UploadJson, upload } from "./support/images";

/** Four flat quadrants: red top-left, green top-right, blue bottom-left, white bottom-right. */
async function quadrants(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const right = x >= width / 2;
      const bottom = y >= height / 2;
      const [r, g, b] = !bottom ? (right ? [0, 255, 0] : [255, 0, 0]) : right ? [255, 255, 255] : [0, 0, 255];
      data.set([r, g, b, 255], i);
    }
  }
  return (await encodeImage({ data, width, height }, "png")).bytes;
}

async function solid(width: number, height: number, rgba: [number, number, number, number]): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
  return (await encodeImage({ data, width, height }, "png")).bytes;
}

async function fetchImage(path: string, init: Parameters<typeof api>[1] = {}) {
  const response = await api(path, init);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { response, bytes };
}

async function decoded(bytes: Uint8Array): Promise<RgbaImage & { format: string }> {
  return decodeImage(bytes, MAX_IMAGE_PIXELS);
}

function pixel(image: RgbaImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return [...image.data.subarray(i, i + 4)];
}

/** Close to a colour: lossy formats and resampling move values a little. */
function expectColour(actual: number[], expected: number[], tolerance = 40) {
  const worst = Math.max(...expected.map((value, channel) => Math.abs((actual[channel] ?? 0) - value)));
  expect(worst, `pixel ${actual.join(",")} should be near ${expected.join(",")}`).toBeLessThanOrEqual(tolerance);
}

const OPTIONAL = { env: { TRANSFORM_SIGNATURES: "optional" } };

let key: string;
let source: UploadJson;
let path: string;
let sourceBytes: Uint8Array;

beforeAll(async () => {
  key = (await freshProjectKey()).key.key;
  sourceBytes = await quadrants(400, 300);
  source = (await upload(key, formWith(sourceBytes, "quadrants.png"))).data as UploadJson;
  path = new URL(source.url).pathname;
});

/** A moment in milliseconds, down to the whole second, as signed URLs count their expiry. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

async function signedUrl(imageId: string, options: string, expiresIn?: number) {
  const response = await api(`/api/images/${imageId}/transform-url`, { method: "POST", key, body: { options, expiresIn } });
  expect(response.status).toBe(201);
  const data = ((await response.json()) as ApiBody<"createTransformUrl", 201>).data;
  const url = new URL(data.url);
  return { ...data, path: `${url.pathname}${url.search}` };
}

describe("image transformations", () => {
  it("serves the original bytes when no option is given", async () => {
    const { response, bytes } = await fetchImage(path);
    expect(response.status).toBe(200);
    expect(bytes).toEqual(sourceBytes);
  });

  it("serves a preset unsigned, caches it and answers repeats without storage or database", async () => {
    const first = await fetchImage(`${path}?preset=thumbnail`);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get("content-type")).toBe("image/png");
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    const image = await decoded(first.bytes);
    expect([image.width, image.height, image.format]).toEqual([256, 256, "png"]);
    // cover, centred: the middle of a 4:3 source, so each corner keeps its quadrant's colour.
    expectColour(pixel(image, 5, 5), [255, 0, 0, 255]);
    expectColour(pixel(image, 250, 250), [255, 255, 255, 255]);

    // The same variant spelled out, with parameters in another order, is the same cache entry.
    const second = await fetchImage(`${path}?fit=cover&h=256&w=256`, {
      ...OPTIONAL,
      env: { ...OPTIONAL.env, S3_ENDPOINT: "http://127.0.0.1:9", DATABASE_URL: "postgres://x:y@127.0.0.1:9/none" },
    });
    expect(second.response.status).toBe(200);
    expect(second.response.headers.get("x-cache")).toBe("HIT");
    expect(second.bytes).toEqual(first.bytes);
    expect(second.response.headers.get("etag")).toBe(first.response.headers.get("etag"));
  });

  it("reads the source from the original's edge-cache entry when there is one", async () => {
    const image = (await upload(key, formWith(await quadrants(80, 60), "cached.png"))).data as UploadJson;
    const imagePath = new URL(image.url).pathname;
    const original = await api(imagePath);
    expect(original.headers.get("x-cache")).toBe("MISS");
    await original.body?.cancel();
    // Storage is unreachable; the database still says the image is live.
    const variant = await fetchImage(`${imagePath}?preset=small`, { env: { S3_ENDPOINT: "http://127.0.0.1:9" } });
    expect(variant.response.status).toBe(200);
    expect((await decoded(variant.bytes)).width).toBe(480);
  });

  it("answers 304 for a variant's ETag and serves HEAD without a body", async () => {
    const head = await api(`${path}?preset=small`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    const etag = head.headers.get("etag") as string;
    const notModified = await api(`${path}?preset=small`, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    // Without the cache too: the validator is known before any transformation.
    const uncached = await api(`${path}?preset=small`, {
      headers: { "If-None-Match": etag },
      env: { IMAGE_EDGE_CACHE: "off" },
    });
    expect(uncached.status).toBe(304);
    expect(uncached.headers.get("etag")).toBe(etag);
  });

  it("requires a signature for arbitrary sizes, and accepts the one the API signs", async () => {
    const unsigned = await api(`${path}?w=100`);
    expect(unsigned.status).toBe(403);
    expect((await readProblem(unsigned)).code).toBe("SIGNATURE_REQUIRED");

    const signed = await signedUrl(source.id, "w=200&h=200&fit=cover&gravity=northwest&format=jpeg&q=90");
    // Canonical: the default fit=cover is dropped, the order is fixed.
    expect(signed.options).toBe("w=200&h=200&gravity=northwest&format=jpeg&q=90");
    expect(signed.expiresAt).toBeNull();
    const { response, bytes } = await fetchImage(signed.path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    expect(response.headers.get("content-disposition")).toBe('inline; filename="quadrants.jpg"');
    const image = await decoded(bytes);
    expect([image.width, image.height, image.format]).toEqual([200, 200, "jpeg"]);
    // northwest: the left 300 of 400 columns are kept, so the right edge still shows green and white.
    expectColour(pixel(image, 10, 10), [255, 0, 0]);
    expectColour(pixel(image, 190, 10), [0, 255, 0]);
    expectColour(pixel(image, 10, 190), [0, 0, 255]);

    // The signature is over canonical options: another parameter order is the same URL.
    const reordered = new URL(signed.url);
    const params = [...reordered.searchParams].reverse();
    const reversed = `${reordered.pathname}?${new URLSearchParams(params)}`;
    const again = await api(reversed);
    expect(again.status).toBe(200);
    await again.body?.cancel();

    const tampered = await api(signed.path.replace("w=200", "w=201"));
    expect(tampered.status).toBe(403);
    expect((await readProblem(tampered)).code).toBe("INVALID_SIGNATURE");
  });

  it("refuses to sign what serving would refuse", async () => {
    for (const [options, code] of [
      ["crop=300,0,200,100", "INVALID_TRANSFORM"],
      ["preset=nope", "INVALID_TRANSFORM"],
      ["w=4096&h=4096&fit=fill", "OUTPUT_TOO_LARGE"],
      ["bogus=1", "INVALID_TRANSFORM"],
    ]) {
      const response = await api(`/api/images/${source.id}/transform-url`, { method: "POST", key, body: { options } });
      expect((await readProblem(response)).code, options).toBe(code);
    }
  });

  it("expires signed transformation URLs that were given a lifetime", async () => {
    const before = Date.now();
    const signed = await signedUrl(source.id, "w=50", 60);
    expect(Date.parse(signed.expiresAt ?? "")).toBeGreaterThanOrEqual(wholeSeconds(before) + 60_000);
    expect(Date.parse(signed.expiresAt ?? "")).toBeLessThanOrEqual(wholeSeconds(Date.now()) + 60_000);
    const fine = await api(signed.path);
    expect(fine.status).toBe(200);
    await fine.body?.cancel();
    // A correctly signed URL whose time has passed.
    const past = Math.floor(Date.now() / 1000) - 10;
    const sig = await signPath(testEnv.URL_SIGNING_SECRET, path, past, "w=50");
    const stale = await api(`${path}?w=50&expires=${past}&sig=${sig}`);
    expect(stale.status).toBe(403);
    expect((await readProblem(stale)).code).toBe("URL_EXPIRED");
  });

  it("counts only arbitrary work against the variant bound, never presets", async () => {
    const image = (await upload(key, formWith(await quadrants(40, 30), "counted.png"))).data as UploadJson;
    const imagePath = new URL(image.url).pathname;
    for (const query of ["preset=thumbnail", "preset=small&format=webp", "preset=medium&format=jpeg", "w=20"]) {
      const response = await api(`${imagePath}?${query}`, OPTIONAL);
      expect(response.status, query).toBe(200);
      await response.body?.cancel();
    }
    const counts = await withDb(async (db) => {
      const result = await db.execute<{ all: number; counted: number }>(
        sql`select count(*)::int as all, (count(*) filter (where counted))::int as counted from image_variants where image_id = ${image.id}`,
      );
      return result.rows[0];
    });
    expect(counts).toEqual({ all: 4, counted: 1 });
  });

  it("marks variants revalidatable rather than immutable: they follow the project's settings", async () => {
    const response = await api(`${path}?preset=large`);
    expect(response.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(response.headers.get("last-modified")).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    await response.body?.cancel();
    const byDate = await api(`${path}?preset=large`, {
      headers: { "If-Modified-Since": new Date(Date.now() + 60_000).toUTCString() },
    });
    expect(byDate.status).toBe(200);
    await byDate.body?.cancel();
  });

  it.each([
    ["fill", 200, 200, [200, 200]],
    ["inside", 200, 200, [200, 150]],
    ["outside", 200, 200, [267, 200]],
    ["contain", 200, 200, [200, 200]],
  ] as const)("fit=%s into %ix%i gives %j", async (fit, w, h, size) => {
    const { response, bytes } = await fetchImage(`${path}?w=${w}&h=${h}&fit=${fit}`, OPTIONAL);
    expect(response.status).toBe(200);
    const image = await decoded(bytes);
    expect([image.width, image.height]).toEqual(size);
    if (fit === "contain") {
      // 400x300 in 200x200: 200x150 centred, transparent bands above and below.
      expect(pixel(image, 100, 5)[3]).toBe(0);
      expectColour(pixel(image, 10, 40), [255, 0, 0, 255]);
      expectColour(pixel(image, 190, 170), [255, 255, 255, 255]);
    }
  });

  it("puts transparent sources on white when converting to JPEG", async () => {
    const clear = (await upload(key, formWith(await solid(40, 40, [0, 0, 0, 0]), "clear.png"))).data as UploadJson;
    const { bytes } = await fetchImage(`${new URL(clear.url).pathname}?preset=thumbnail&format=jpeg`);
    const image = await decoded(bytes);
    expect(image.format).toBe("jpeg");
    expectColour(pixel(image, 128, 128), [255, 255, 255, 255], 3);
  });

  it("keeps the aspect ratio when only one side is given", async () => {
    const image = await decoded((await fetchImage(`${path}?h=60`, OPTIONAL)).bytes);
    expect([image.width, image.height]).toEqual([80, 60]);
  });

  it("crops a rectangle of the source before resizing", async () => {
    const { response, bytes } = await fetchImage(`${path}?crop=200,0,200,150&w=100`, OPTIONAL);
    expect(response.status).toBe(200);
    const image = await decoded(bytes);
    expect([image.width, image.height]).toEqual([100, 75]);
    for (const [x, y] of [
      [0, 0],
      [99, 74],
      [50, 37],
    ] as const)
      expectColour(pixel(image, x, y), [0, 255, 0, 255], 5);
  });

  it("places a cover crop at a focal point", async () => {
    // A 100x300 strip of a 400x300 source centred on x = 0.9: inside the green / white half.
    const image = await decoded((await fetchImage(`${path}?w=50&h=150&fit=cover&gravity=0.9,0.5`, OPTIONAL)).bytes);
    expect([image.width, image.height]).toEqual([50, 150]);
    expectColour(pixel(image, 25, 10), [0, 255, 0, 255]);
    expectColour(pixel(image, 25, 140), [255, 255, 255, 255]);
  });

  it("negotiates format=auto from Accept and says Vary: Accept", async () => {
    const webp = await fetchImage(`${path}?preset=medium&format=auto`, {
      headers: { Accept: "image/avif,image/webp,*/*" },
    });
    expect(webp.response.headers.get("content-type")).toBe("image/webp");
    expect(webp.response.headers.get("vary")).toBe("Accept");
    expect((await decoded(webp.bytes)).format).toBe("webp");

    const again = await api(`${path}?preset=medium&format=auto`, { headers: { Accept: "image/webp,*/*" } });
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(again.headers.get("vary")).toBe("Accept");
    expect(again.headers.get("content-type")).toBe("image/webp");
    await again.body?.cancel();

    const png = await fetchImage(`${path}?preset=medium&format=auto`, { headers: { Accept: "image/png,*/*" } });
    expect(png.response.headers.get("content-type")).toBe("image/png");
    expect(png.response.headers.get("vary")).toBe("Accept");
    expect(png.response.headers.get("x-cache")).toBe("MISS");
  });

  it("converts and compresses: a lower quality gives a smaller file", async () => {
    const high = (await fetchImage(`${path}?w=300&format=webp&q=95`, OPTIONAL)).bytes;
    const low = (await fetchImage(`${path}?w=300&format=webp&q=20`, OPTIONAL)).bytes;
    expect((await decoded(low)).format).toBe("webp");
    expect(low.byteLength).toBeLessThan(high.byteLength);
  });

  it.each([
    ["w=0", "w"],
    ["w=abc", "w"],
    ["h=5000", "h"],
    ["fit=zoom&w=10", "fit"],
    ["fit=cover", "fit"],
    ["gravity=up&w=10", "gravity"],
    ["gravity=2,0.5&w=10", "gravity"],
    ["crop=1,2,3", "crop"],
    ["crop=300,0,200,100", "crop"],
    ["format=gif", "format"],
    ["q=101&format=webp", "q"],
    ["preset=nope", "preset"],
    ["preset=thumbnail&w=10", "preset"],
    ["watermark=yes", "watermark"],
    ["watermark=1", "watermark"],
    ["w=10&w=20", "w"],
    ["preset=small&utm_source=x&preset=large", "preset"],
    ["preset=small&sig=a&sig=b", "sig"],
  ])("refuses %s with 400 naming %s, and records no variant", async (query, field) => {
    const before = await variantCount(source.id);
    const response = await api(`${path}?${query}`, OPTIONAL);
    expect(response.status).toBe(400);
    const problem = await readProblem(response);
    expect(problem.code).toBe("INVALID_TRANSFORM");
    expect(problem.errors?.[0]?.field).toBe(field);
    expect(problem.detail).toContain(field);
    expect(await variantCount(source.id)).toBe(before);
  });

  it("refuses outputs beyond the pixel limit before decoding", async () => {
    const response = await api(`${path}?w=4096&h=4096&fit=fill`, OPTIONAL);
    expect(response.status).toBe(422);
    expect((await readProblem(response)).code).toBe("OUTPUT_TOO_LARGE");
  });

  describe("JPEG outputs within the encoder's memory (MAX_JPEG_OUTPUT_PIXELS)", () => {
    // 2048x1300 is 2,662,400 pixels: over the JPEG limit of 2,621,440 below quality 90, far below
    // the 8 MP output limit.
    const OVER_JPEG_LIMIT = "w=2048&h=1300&fit=fill";
    // 1200x900 is 1,080,000 pixels: a JPEG below quality 90, over the 1,048,576 from quality 90.
    const OVER_FULL_CHROMA_LIMIT = "w=1200&h=900&fit=fill";
    let jpegSource: UploadJson;
    let jpegPath: string;
    beforeAll(async () => {
      const pixels = await decoded(await quadrants(400, 300));
      const jpeg = (await encodeImage(pixels, "jpeg")).bytes;
      jpegSource = (await upload(key, formWith(jpeg, "photo.jpg"))).data as UploadJson;
      jpegPath = new URL(jpegSource.url).pathname;
    });

    async function expectRefusedJpeg(
      response: Response,
      imageId: string,
      variantsBefore: number,
      limit = "at quality 82 may have at most 2621440 pixels",
    ) {
      expect(response.status).toBe(422);
      const problem = await readProblem(response);
      expect(problem.code).toBe("OUTPUT_TOO_LARGE");
      expect(problem.detail).toContain(`JPEG output ${limit}`);
      expect(problem.detail).toContain("format=webp");
      // Refused before any work: no variant was recorded.
      expect(await variantCount(imageId)).toBe(variantsBefore);
    }

    it("refuses a JPEG over the limit before decoding, naming the limit and WebP", async () => {
      for (const [imagePath, imageId, query] of [
        [path, source.id, `${OVER_JPEG_LIMIT}&format=jpeg`],
        // A JPEG source keeps its format when none is asked.
        [jpegPath, jpegSource.id, OVER_JPEG_LIMIT],
      ] as const) {
        const before = await variantCount(imageId);
        await expectRefusedJpeg(await api(`${imagePath}?${query}`, OPTIONAL), imageId, before);
      }
    });

    it("holds a JPEG from quality 90 (chroma kept whole) to the lower limit, and serves it below", async () => {
      const before = await variantCount(jpegSource.id);
      const refused = await api(`${jpegPath}?${OVER_FULL_CHROMA_LIMIT}&q=90`, OPTIONAL);
      await expectRefusedJpeg(refused, jpegSource.id, before, "at quality 90 may have at most 1048576 pixels");
      const { response, bytes } = await fetchImage(`${jpegPath}?${OVER_FULL_CHROMA_LIMIT}&q=89`, OPTIONAL);
      expect(response.status).toBe(200);
      expect(await decoded(bytes)).toMatchObject({ format: "jpeg", width: 1200, height: 900 });
    });

    it("serves the same size as WebP, and a JPEG at the limit", async () => {
      for (const [query, format, width, height] of [
        [`${OVER_JPEG_LIMIT}&format=webp`, "webp", 2048, 1300],
        ["w=2048&h=1280&fit=fill&format=jpeg", "jpeg", 2048, 1280],
      ] as const) {
        const { response, bytes } = await fetchImage(`${jpegPath}?${query}`, OPTIONAL);
        expect(response.status, query).toBe(200);
        expect(response.headers.get("content-type")).toBe(`image/${format}`);
        const image = await decoded(bytes);
        expect([image.format, image.width, image.height]).toEqual([format, width, height]);
      }
    });

    it("answers format=auto with WebP where accepted, and refuses the JPEG it would send elsewhere", async () => {
      const query = `${OVER_JPEG_LIMIT}&format=auto`;
      const { response, bytes } = await fetchImage(`${jpegPath}?${query}`, {
        ...OPTIONAL,
        headers: { Accept: "image/avif,image/webp,*/*" },
      });
      expect(response.status).toBe(200);
      expect((await decoded(bytes)).format).toBe("webp");
      const before = await variantCount(jpegSource.id);
      const old = await api(`${jpegPath}?${query}`, { ...OPTIONAL, headers: { Accept: "image/jpeg,image/png" } });
      await expectRefusedJpeg(old, jpegSource.id, before);
    });

    it("refuses to sign a JPEG over the limit, but signs the same size in WebP or auto", async () => {
      for (const [options, status] of [
        [OVER_JPEG_LIMIT, 422],
        [`${OVER_JPEG_LIMIT}&format=webp`, 201],
        [`${OVER_JPEG_LIMIT}&format=auto`, 201],
      ] as const) {
        const response = await api(`/api/images/${jpegSource.id}/transform-url`, { method: "POST", key, body: { options } });
        expect(response.status, options).toBe(status);
        if (status === 422) expect((await readProblem(response)).code).toBe("OUTPUT_TOO_LARGE");
        else await response.body?.cancel();
      }
    });
  });

  it("bounds the number of variants per image, still serving known ones", async () => {
    const { key: otherKey } = await freshProjectKey();
    const image = (await upload(otherKey.key, formWith(await solid(40, 40, [9, 9, 9, 255]), "dot.png"))).data as UploadJson;
    const imagePath = new URL(image.url).pathname;
    const known = await api(`${imagePath}?w=10`, OPTIONAL);
    expect(known.status).toBe(200);
    await known.body?.cancel();
    await withDb((db) =>
      db.execute(sql`insert into image_variants (image_id, variant_key)
        select ${image.id}, 'w=' || n from generate_series(100, ${100 + MAX_VARIANTS_PER_IMAGE - 2}) n`),
    );
    expect(await variantCount(image.id)).toBe(MAX_VARIANTS_PER_IMAGE);
    const refused = await api(`${imagePath}?w=11`, OPTIONAL);
    expect(refused.status).toBe(429);
    expect((await readProblem(refused)).code).toBe("VARIANT_LIMIT");
    const again = await api(`${imagePath}?w=10`, { env: { ...OPTIONAL.env, IMAGE_EDGE_CACHE: "off" } });
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });

  it("stops serving a deleted image's variants, cached or not", async () => {
    const image = (await upload(key, formWith(await quadrants(40, 30), "gone.png"))).data as UploadJson;
    const imagePath = new URL(image.url).pathname;
    const cached = await api(`${imagePath}?preset=thumbnail`);
    expect(cached.status).toBe(200);
    await cached.body?.cancel();
    expect((await api(`/api/images/${image.id}`, { method: "DELETE", key })).status).toBe(200);
    expect((await api(`${imagePath}?preset=thumbnail`)).status).toBe(404);
    expect((await api(`${imagePath}?preset=small`)).status).toBe(404);
  });
});

describe("variants of a private project's images", () => {
  it("are served only through signed URLs that expire, and never cached", async () => {
    const { scope, key: privateKey } = await freshProjectKey();
    const image = (await upload(privateKey.key, formWith(await quadrants(80, 60), "secret.png"))).data as UploadJson;
    await withDb((db) => db.execute(sql`update projects set private = true where id = ${scope.project.id}`));
    const imagePath = new URL(image.url).pathname;
    const unsigned = await api(`${imagePath}?preset=thumbnail`);
    expect(unsigned.status).toBe(404);
    await unsigned.body?.cancel();

    // A signature without an expiry (as made for public images), with or without an empty expires=.
    const forever = await signPath(testEnv.URL_SIGNING_SECRET, imagePath, null, "preset=thumbnail");
    for (const query of [`preset=thumbnail&sig=${forever}`, `preset=thumbnail&expires=&sig=${forever}`]) {
      const refused = await api(`${imagePath}?${query}`);
      expect(refused.status, query).toBe(403);
      expect((await readProblem(refused)).code).toBe("INVALID_SIGNATURE");
    }

    const before = Date.now();
    const response = await api(`/api/images/${image.id}/transform-url`, {
      method: "POST",
      key: privateKey.key,
      body: { options: "preset=thumbnail" },
    });
    const data = ((await response.json()) as ApiBody<"createTransformUrl", 201>).data;
    // Without a lifetime asked for, a private project's URL lives an hour.
    expect(Date.parse(data.expiresAt ?? "")).toBeGreaterThanOrEqual(wholeSeconds(before) + 3_600_000);
    expect(Date.parse(data.expiresAt ?? "")).toBeLessThanOrEqual(wholeSeconds(Date.now()) + 3_600_000);
    const url = new URL(data.url);
    for (let i = 0; i < 2; i++) {
      const signed = await api(`${url.pathname}${url.search}`);
      expect(signed.status).toBe(200);
      expect(signed.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
      expect(signed.headers.get("x-cache")).toBe("BYPASS");
      expect((await decoded(new Uint8Array(await signed.arrayBuffer()))).width).toBe(256);
    }
  });
});

describe("project presets and watermark", () => {
  let projectKey: string;
  let imagePath: string;
  let photoId: string;
  let markId: string;

  beforeAll(async () => {
    projectKey = (await freshProjectKey()).key.key;
    const image = (await upload(projectKey, formWith(await quadrants(400, 300), "photo.png"))).data as UploadJson;
    imagePath = new URL(image.url).pathname;
    photoId = image.id;
    markId = ((await upload(projectKey, formWith(await solid(40, 20, [255, 0, 255, 255]), "mark.png"))).data as UploadJson).id;
  });

  const put = (body: unknown) => api("/api/project/image-settings", { method: "PUT", key: projectKey, body });

  it("changes a variant's ETag when its preset is redefined", async () => {
    expect((await put({ presets: { hero: "w=100" } })).status).toBe(200);
    const before = await api(`${imagePath}?preset=hero`);
    const etag = before.headers.get("etag") as string;
    await before.body?.cancel();
    expect((await put({ presets: { hero: "w=120" } })).status).toBe(200);
    const after = await api(`${imagePath}?preset=hero`, { headers: { "If-None-Match": etag } });
    expect(after.status).toBe(200);
    expect((await decoded(new Uint8Array(await after.arrayBuffer()))).width).toBe(120);
  });

  it("serves a project's own preset unsigned", async () => {
    const saved = await put({ presets: { card: "w=120&h=80&fit=fill" } });
    expect(saved.status).toBe(200);
    const settings = ((await saved.json()) as ApiBody<"setImageSettings", 200>).data;
    expect(settings.presets).toEqual({ card: "w=120&h=80&fit=fill" });
    const image = await decoded((await fetchImage(`${imagePath}?preset=card&format=webp`)).bytes);
    expect([image.width, image.height, image.format]).toEqual([120, 80, "webp"]);
  });

  it("refuses a watermark image over the watermark pixel limit", async () => {
    const big = (await upload(projectKey, formWith(await solid(1100, 1000, [1, 2, 3, 255]), "big.png"))).data as UploadJson;
    const response = await put({ watermark: { imageId: big.id } });
    expect(response.status).toBe(400);
    const problem = await readProblem(response);
    expect(problem.errors?.[0]?.field).toBe("watermark.imageId");
    expect(problem.detail).toContain("1100x1000");
  });

  it.each([
    [{ presets: { card: "w=abc" } }, "presets.card"],
    [{ presets: { thumbnail: "w=10" } }, "presets.thumbnail"],
    [{ presets: { card: "preset=small" } }, "presets.card"],
    [{ presets: { card: "w=10&format=png" } }, "presets.card"],
    [{ watermark: { imageId: crypto.randomUUID() } }, "watermark.imageId"],
    [{ watermarkByDefault: true }, "watermarkByDefault"],
  ])("refuses %j naming %s and keeps the old settings", async (body, field) => {
    const before = await (await api("/api/project/image-settings", { key: projectKey })).json();
    const response = await put(body);
    expect(response.status).toBe(400);
    expect((await readProblem(response)).errors?.[0]?.field).toBe(field);
    expect(await (await api("/api/project/image-settings", { key: projectKey })).json()).toEqual(before);
  });

  it("applies the watermark by option, by default, and leaves it off when asked", async () => {
    const saved = await put({
      presets: {},
      watermark: { imageId: markId, position: "southeast", opacity: 1, scale: 0.25, margin: 0 },
    });
    expect(saved.status).toBe(200);
    const plain = await decoded((await fetchImage(`${imagePath}?preset=thumbnail`)).bytes);
    expectColour(pixel(plain, 250, 250), [255, 255, 255, 255]);

    const marked = await decoded((await fetchImage(`${imagePath}?preset=thumbnail&watermark=1`)).bytes);
    // A 64x32 mark (a quarter of 256 wide) in the bottom-right corner.
    expectColour(pixel(marked, 250, 250), [255, 0, 255, 255]);
    expectColour(pixel(marked, 200, 230), [255, 0, 255, 255]);
    expectColour(pixel(marked, 180, 250), [255, 255, 255, 255]);
    expectColour(pixel(marked, 5, 5), [255, 0, 0, 255]);

    expect(
      (
        await put({
          watermark: { imageId: markId, position: "northwest", opacity: 0.5, scale: 0.25, margin: 10 },
          watermarkByDefault: true,
        })
      ).status,
    ).toBe(200);
    // Saving purged the cached variants: the default now applies to a URL without the option.
    const byDefault = await decoded((await fetchImage(`${imagePath}?preset=thumbnail`)).bytes);
    // Half-opaque magenta over red at (20, 20), inside the 10-pixel margin.
    expectColour(pixel(byDefault, 20, 20), [255, 0, 128, 255]);
    expectColour(pixel(byDefault, 5, 5), [255, 0, 0, 255]);
    // Leaving a default watermark off is the project's call: unsigned, it is refused.
    const unsignedOff = await api(`${imagePath}?preset=thumbnail&watermark=0`);
    expect(unsignedOff.status).toBe(403);
    expect((await readProblem(unsignedOff)).code).toBe("SIGNATURE_REQUIRED");
    const signing = await api(`/api/images/${photoId}/transform-url`, {
      method: "POST",
      key: projectKey,
      body: { options: "preset=thumbnail&watermark=0" },
    });
    const offUrl = new URL(((await signing.json()) as ApiBody<"createTransformUrl", 201>).data.url);
    const off = await decoded((await fetchImage(`${offUrl.pathname}${offUrl.search}`)).bytes);
    expectColour(pixel(off, 20, 20), [255, 0, 0, 255]);

    // The watermark image cannot be deleted while it is the watermark.
    const deleting = await api(`/api/images/${markId}`, { method: "DELETE", key: projectKey });
    expect(deleting.status).toBe(409);
    expect((await readProblem(deleting)).code).toBe("IMAGE_IN_USE");

    // Originals are never watermarked.
    const { bytes } = await fetchImage(imagePath);
    expect((await decoded(bytes)).width).toBe(400);
  });
});

async function variantCount(imageId: string): Promise<number> {
  return withDb(async (db) => {
    const result = await db.execute<{ n: number }>(
      sql`select count(*)::int as n from image_variants where image_id = ${imageId}`,
    );
    return result.rows[0]?.n ?? 0;
  });
}
