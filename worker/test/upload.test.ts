import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { api, readProblem, testEnv } from "./support/app";
import {
  animatedWebp,
  apng,
  jpeg,
  jpegWithHiddenFrame,
  jpegWithTwoFrames,
  pngBomb,
  progressiveJpeg,
  webpWithCanvas,
} from "./support/crafted-images";
import { quotaUsed, withDb } from "./support/fixtures";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, upload } from "./support/images";

const s3 = () => {
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("s3 expected");
  return createS3ObjectStore(storage.s3);
};

describe("POST /api/upload", () => {
  it.each([
    ["png", "image/png", "png"],
    ["jpeg", "image/jpeg", "jpg"],
    ["webp", "image/webp", "webp"],
  ] as const)(
    "stores a %s under a server-made name, with the facts read from its content",
    async (format, mimeType, extension) => {
      const { scope, key } = await freshProjectKey();
      const bytes = await imageFile(format, 160, 90);
      // A misleading declared type and name change nothing: the content decides.
      const { response, data } = await upload(key.key, formWith(bytes, "../../Holiday Photo.gif", {}, "text/html"));

      expect(response.status).toBe(201);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("99");
      expect(data).toMatchObject({
        category: "uploads",
        mimeType,
        bytes: bytes.byteLength,
        width: 160,
        height: 90,
        aspectRatio: "16:9",
        filename: "holiday-photo",
      });
      expect(new URL(data?.url ?? "").pathname).toMatch(
        new RegExp(`^/api/images/${scope.organization.slug}/${scope.project.slug}/uploads/[0-9a-f-]{36}\\.${extension}$`),
      );
      const stored = await api(new URL(data?.url ?? "").pathname);
      expect(stored.headers.get("content-type")).toBe(mimeType);
      expect(new Uint8Array(await stored.arrayBuffer())).toEqual(bytes);
      const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
        .map((b) => b.toString(16).padStart(2, "0"))
        .join("");
      expect(data?.sha256).toBe(digest);
    },
  );

  it("files references apart from uploads", async () => {
    const { key } = await freshProjectKey();
    const { data } = await upload(
      key.key,
      formWith(await imageFile("png", 30, 40), "ref.png", { category: "references", filename: "Style Ref" }),
    );
    expect(data).toMatchObject({ category: "references", aspectRatio: "3:4", filename: "style-ref" });
    expect(data?.url).toContain("/references/");
  });

  async function expectRejected(form: FormData | undefined, status: number, code: string, init: RequestInit | null = null) {
    const { scope, key } = await freshProjectKey();
    const response = init ? await fetchRaw(key.key, init) : await api("/api/upload", { key: key.key, form });
    const problem = await readProblem(response);
    expect(response.status, problem.detail).toBe(status);
    expect(problem.code).toBe(code);
    // Nothing stored, nothing recorded, no quota spent.
    expect((await s3().list({ prefix: `${scope.organization.slug}/${scope.project.slug}/` })).objects).toEqual([]);
    const rows = await withDb(
      async (db) =>
        (await db.execute<{ n: number }>(sql`select count(*)::int as n from images where project_id = ${scope.project.id}`))
          .rows[0]?.n,
    );
    expect(rows).toBe(0);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  }

  async function fetchRaw(key: string, init: RequestInit): Promise<Response> {
    const { callApp } = await import("./support/app");
    return callApp("/api/upload", {
      method: "POST",
      ...init,
      headers: { "X-API-Key": key, "CF-Connecting-IP": "192.0.2.99", ...(init.headers as Record<string, string>) },
    });
  }

  it("refuses a file over 5 MB that declares its length, without reading it", async () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    await expectRejected(formWith(big, "big.png"), 413, "FILE_TOO_LARGE");
  });

  it("refuses a body over 5 MB sent without Content-Length, cutting it off while it streams", async () => {
    const boundary = "----banatie-test";
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    let sent = 0;
    const chunk = new Uint8Array(256 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(head);
        // Endless: only a limit applied while streaming can stop this.
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > 64 * 1024 * 1024) controller.close();
      },
    });
    await expectRejected(undefined, 413, "FILE_TOO_LARGE", {
      body,
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
    });
  });

  it("refuses SVG (with script), HTML named .png and other types by content", async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await expectRejected(formWith(svg, "logo.svg", {}, "image/svg+xml"), 415, "UNSUPPORTED_FILE_TYPE");
    const html = new TextEncoder().encode("<!doctype html><html><script>alert(document.cookie)</script></html>");
    await expectRejected(formWith(html, "photo.png", {}, "image/png"), 415, "UNSUPPORTED_FILE_TYPE");
    const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    await expectRejected(formWith(gif, "anim.gif"), 415, "UNSUPPORTED_FILE_TYPE");
  });

  it("refuses a truncated PNG and a PNG with HTML appended (a polyglot)", async () => {
    const png = await imageFile("png");
    await expectRejected(formWith(png.slice(0, png.length - 20), "cut.png"), 422, "INVALID_IMAGE");
    const polyglot = new Uint8Array([...png, ...new TextEncoder().encode("<html><script>alert(1)</script></html>")]);
    await expectRejected(formWith(polyglot, "poly.png"), 422, "INVALID_IMAGE");
    const jpeg = await imageFile("jpeg");
    await expectRejected(formWith(jpeg.slice(0, jpeg.length - 2), "cut.jpg"), 422, "INVALID_IMAGE");
  });

  it("refuses a small file declaring huge dimensions (a decompression bomb) before decoding it", async () => {
    const png = await imageFile("png", 4, 4);
    const bomb = png.slice();
    const view = new DataView(bomb.buffer);
    view.setUint32(16, 100_000);
    view.setUint32(20, 100_000);
    await expectRejected(formWith(bomb, "bomb.png"), 422, "IMAGE_TOO_LARGE");
  });

  // Each of these uploaded before as the size a header sniffer read, or as a file no decoder here can read.
  it.each([
    [
      "a 1x1 JPEG hiding an 8192x8192 frame behind a TEM given a length",
      422,
      "INVALID_IMAGE",
      () => jpegWithHiddenFrame(8192, 8192, 0x01),
    ],
    ["a JPEG hiding a frame behind RST0 and stray bytes", 422, "INVALID_IMAGE", () => jpegWithHiddenFrame(8192, 8192, 0xd0, 6)],
    ["a JPEG with two frame headers", 422, "INVALID_IMAGE", () => jpegWithTwoFrames(8192, 8192)],
    ["a progressive JPEG with 1,000 scans", 422, "INVALID_IMAGE", () => progressiveJpeg(64, 64, 1000)],
    [
      "a 4096x2048 progressive 4:4:4 JPEG, whose coefficient buffer is past the decode budget",
      422,
      "IMAGE_TOO_LARGE",
      () => progressiveJpeg(4096, 2048, 3, 3),
    ],
    ["a CMYK JPEG", 422, "UNSUPPORTED_IMAGE_FEATURE", () => jpeg(16, 16, { components: 4 })],
    ["a 12-bit JPEG", 422, "UNSUPPORTED_IMAGE_FEATURE", () => jpeg(16, 16, { precision: 12 })],
    ["a PNG whose valid IHDR declares 100000x100000 over a tiny IDAT", 422, "IMAGE_TOO_LARGE", () => pngBomb(100_000, 100_000)],
    ["an APNG whose first frame does not cover the image", 422, "INVALID_IMAGE", () => apng(8, 8, { width: 4, height: 4 })],
    [
      "a WebP whose VP8X canvas says 1x1 over a 64x48 image",
      422,
      "INVALID_IMAGE",
      async () => webpWithCanvas(await imageFile("webp"), 1, 1),
    ],
    ["an animated WebP", 422, "UNSUPPORTED_IMAGE_FEATURE", async () => animatedWebp(await imageFile("webp"), 64, 48)],
  ] as const)("refuses %s, storing nothing", async (_, status, code, build) => {
    await expectRejected(formWith(await build(), "hostile.img"), status, code);
  });

  it("asks for a file when none is sent", async () => {
    const form = new FormData();
    form.append("category", "uploads");
    const { key } = await freshProjectKey();
    const response = await api("/api/upload", { key: key.key, form });
    const problem = await readProblem(response);
    expect(response.status).toBe(400);
    expect(problem.errors?.map((error) => error.field)).toContain("file");
  });
});
