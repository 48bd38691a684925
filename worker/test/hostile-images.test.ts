import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { createS3ObjectStore } from "../src/storage/s3-object-store";
import { api, readProblem, testEnv } from "./support/app";
import { apng, jpeg, jpegWithHiddenFrame, png, pngBomb, progressiveJpeg } from "./support/crafted-images";
import { withDb } from "./support/fixtures";
import { decodeImage, freshProjectKey } from "./support/generation";
import { formWith, upload } from "./support/images";

const MIME = { jpg: "image/jpeg", png: "image/png" } as const;

/**
 * Puts a file straight into storage with an images row claiming 1x1, bypassing the upload checks:
 * what a hostile file stored before the inspector existed looks like. Returns its public path.
 */
async function storeBypassingUpload(bytes: Uint8Array, extension: keyof typeof MIME): Promise<string> {
  const { scope } = await freshProjectKey();
  const storage = loadConfig(testEnv).storage;
  if (storage.driver !== "s3") throw new Error("s3 expected");
  const id = crypto.randomUUID();
  const key = `${scope.organization.slug}/${scope.project.slug}/uploads/${id}.${extension}`;
  await createS3ObjectStore(storage.s3).put(key, bytes, { contentType: MIME[extension] });
  await withDb((db) =>
    db.execute(sql`insert into images (id, project_id, category, storage_key, mime_type, bytes, width, height, sha256)
      values (${id}, ${scope.project.id}, 'uploads', ${key}, ${MIME[extension]}, ${bytes.byteLength}, 1, 1, ${"0".repeat(64)})`),
  );
  return `/api/images/${key}`;
}

describe("transforming a stored source the inspector refuses", () => {
  it.each([
    ["a JPEG hiding a 4096x4096 frame", "jpg", "INVALID_IMAGE", () => jpegWithHiddenFrame(4096, 4096, 0x01)],
    ["a PNG whose IHDR declares 100000x100000", "png", "IMAGE_TOO_LARGE", () => pngBomb(100_000, 100_000)],
    ["a CMYK JPEG", "jpg", "UNSUPPORTED_IMAGE_FEATURE", () => jpeg(16, 16, { components: 4 })],
    ["a 4096x2048 progressive 4:4:4 JPEG", "jpg", "IMAGE_TOO_LARGE", () => progressiveJpeg(4096, 2048, 3, 3)],
  ] as const)("answers 422 for %s without decoding it, and still serves the original", async (_, extension, code, build) => {
    const bytes = await build();
    const path = await storeBypassingUpload(bytes, extension);
    const variant = await api(`${path}?preset=thumbnail`);
    const problem = await readProblem(variant);
    expect(variant.status, problem.detail).toBe(422);
    expect(problem.code).toBe(code);
    const original = await api(path);
    expect(original.status).toBe(200);
    expect(new Uint8Array(await original.arrayBuffer())).toEqual(bytes);
  });
});

describe("transforming a stored source whose headers pass but whose pixel data is broken", () => {
  it("answers 422 INVALID_IMAGE, not a server error, and still serves the original", async () => {
    // 64x64 passes every header check; its IDAT holds five bytes where 16 KB of pixels belong.
    const bytes = await pngBomb(64, 64);
    const path = await storeBypassingUpload(bytes, "png");
    const variant = await api(`${path}?preset=thumbnail`);
    const problem = await readProblem(variant);
    expect(variant.status, problem.detail).toBe(422);
    expect(problem.code).toBe("INVALID_IMAGE");
    const original = await api(path);
    expect(original.status).toBe(200);
    await original.body?.cancel();
  });
});

describe("variants the decoders handle", () => {
  it.each([
    ["a 16-bit PNG", () => png(40, 30, [0xff, 0xff, 0x00, 0x00, 0x80, 0x00], { depth: 16, colourType: 2 }), [255, 0, 128]],
    ["an APNG, by its default image", () => apng(40, 30), [255, 0, 0]],
  ] as const)("uploads %s and transforms it with the right colours", async (_, build, colour) => {
    const { key } = await freshProjectKey();
    const { response, data } = await upload(key.key, formWith(await build(), "deep.png"));
    expect(response.status).toBe(201);
    expect(data).toMatchObject({ mimeType: "image/png", width: 40, height: 30 });
    const variant = await api(`${new URL(data?.url ?? "").pathname}?w=20&format=png`, {
      env: { TRANSFORM_SIGNATURES: "optional" },
    });
    expect(variant.status).toBe(200);
    const bytes = new Uint8Array(await variant.arrayBuffer());
    const image = (await decodeImage(bytes, "image/png")) as { width: number; height: number; data: Uint8ClampedArray };
    expect([image.width, image.height]).toEqual([20, 15]);
    expect([...image.data.subarray(0, 3)]).toEqual(colour);
  });
});
