import JPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import jpegDecode, { init as initJpegDecode } from "@jsquash/jpeg/decode";
import WEBP_DECODER from "@jsquash/webp/codec/dec/webp_dec.wasm";
import webpDecode, { init as initWebpDecode } from "@jsquash/webp/decode";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { convertImage, decodeImage, decodeInspected, encodeImage, type RgbaImage } from "../src/images/codec";
import { inspectForDecoding, inspectImage } from "../src/images/inspect";

function gradient(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = 128;
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

beforeAll(async () => {
  await Promise.all([initJpegDecode(JPEG_DECODER), initWebpDecode(WEBP_DECODER)]);
});

describe("image codecs in the Worker", () => {
  it("encodes PNG losslessly and reads its size from the header", async () => {
    const source = gradient(320, 200);
    const png = await encodeImage(source, "png");
    expect(inspectImage(png.bytes, MAX_IMAGE_PIXELS)).toEqual({ format: "png", mimeType: "image/png", width: 320, height: 200 });
    const decoded = await decodeImage(png.bytes, MAX_IMAGE_PIXELS);
    expect(decoded.width).toBe(320);
    expect(Array.from(decoded.data.subarray(0, 400))).toEqual(Array.from(source.data.subarray(0, 400)));
  });

  it("decodes an inspected image once inspected, and never a header the inspector did not make", async () => {
    const png = await encodeImage(gradient(32, 24), "png");
    const inspected = inspectForDecoding(png.bytes, MAX_IMAGE_PIXELS);
    expect([inspected.width, inspected.height]).toEqual([32, 24]);
    expect(await decodeInspected(inspected)).toMatchObject({ format: "png", width: 32, height: 24 });
    const forged = { format: "png", mimeType: "image/png", width: 1, height: 1, bytes: png.bytes } as const;
    // @ts-expect-error Only the inspector makes an InspectedImage; a header written by hand does not type-check.
    const decoding = decodeInspected(forged);
    // And were one forced through, the decoded size is still held to the header's.
    await expect(decoding).rejects.toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("converts a PNG to JPEG and WebP that decode to the same picture", async () => {
    const source = gradient(256, 160);
    const png = await encodeImage(source, "png");
    for (const format of ["jpeg", "webp"] as const) {
      const converted = await convertImage(png.bytes, format, { maxPixels: MAX_IMAGE_PIXELS, quality: 90 });
      expect(inspectImage(converted.bytes, MAX_IMAGE_PIXELS)).toMatchObject({ format, width: 256, height: 160 });
      const decoded =
        format === "jpeg" ? await jpegDecode(converted.bytes.slice().buffer) : await webpDecode(converted.bytes.slice().buffer);
      expect([decoded.width, decoded.height]).toEqual([256, 160]);
      // Lossy, but close: the middle pixel's red channel within a few levels.
      const middle = (80 * 256 + 128) * 4;
      expect(Math.abs((decoded.data[middle] as number) - (source.data[middle] as number))).toBeLessThan(8);
    }
  });

  it("keeps an image already in the asked format byte for byte, unless a quality is asked", async () => {
    const png = await encodeImage(gradient(64, 64), "png");
    expect((await convertImage(png.bytes, "png", { maxPixels: MAX_IMAGE_PIXELS })).bytes).toBe(png.bytes);
    const jpeg = await encodeImage(gradient(64, 64), "jpeg", 90);
    expect((await convertImage(jpeg.bytes, "jpeg", { maxPixels: MAX_IMAGE_PIXELS })).bytes).toBe(jpeg.bytes);
    const requantized = await convertImage(jpeg.bytes, "jpeg", { maxPixels: MAX_IMAGE_PIXELS, quality: 30 });
    expect(requantized.bytes).not.toBe(jpeg.bytes);
    expect(requantized.bytes.byteLength).toBeLessThan(jpeg.bytes.byteLength);
  });

  it("converts JPEG and WebP from other Gemini-protocol servers to every format", async () => {
    const source = gradient(96, 72);
    for (const from of ["jpeg", "webp"] as const) {
      const original = await encodeImage(source, from, 95);
      for (const to of ["png", "jpeg", "webp"] as const) {
        const converted = await convertImage(original.bytes, to, { maxPixels: MAX_IMAGE_PIXELS });
        expect(inspectImage(converted.bytes, MAX_IMAGE_PIXELS), `${from} to ${to}`).toMatchObject({
          format: to,
          width: 96,
          height: 72,
        });
      }
    }
  });

  it("refuses to encode a JPEG over its limit at that quality, whoever asks", async () => {
    // Below quality 90 (chroma halved) the limit is MAX_JPEG_OUTPUT_PIXELS, from 90 the full-chroma one.
    await expect(encodeImage(gradient(2049, 1280), "jpeg")).rejects.toMatchObject({ code: "OUTPUT_TOO_LARGE" });
    await expect(encodeImage(gradient(1025, 1024), "jpeg", 90)).rejects.toMatchObject({ code: "OUTPUT_TOO_LARGE" });
    for (const [width, height, quality] of [
      [2048, 1280, 89],
      [1024, 1024, 100],
    ] as const) {
      const atLimit = await encodeImage(gradient(width, height), "jpeg", quality);
      expect(inspectImage(atLimit.bytes, MAX_IMAGE_PIXELS)).toMatchObject({ format: "jpeg", width, height });
    }
  });

  it("lower quality makes smaller lossy files", async () => {
    const png = await encodeImage(gradient(512, 512), "png");
    const high = await convertImage(png.bytes, "webp", { maxPixels: MAX_IMAGE_PIXELS, quality: 95 });
    const low = await convertImage(png.bytes, "webp", { maxPixels: MAX_IMAGE_PIXELS, quality: 30 });
    expect(low.bytes.byteLength).toBeLessThan(high.bytes.byteLength);
  });
});
