import JPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import JPEG_ENCODER from "@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm";
import jpegDecode, { init as initJpegDecode } from "@jsquash/jpeg/decode";
import jpegEncode, { init as initJpegEncode } from "@jsquash/jpeg/encode";
import { defaultOptions as jpegDefaults } from "@jsquash/jpeg/meta";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { convertImage, decodeImage, encodeImage, type RgbaImage } from "../src/images/codec";
import { inspectImage } from "../src/images/inspect";
import { MAX_JPEG_SCANS } from "../src/images/inspect/jpeg";
import { AppError } from "../src/lib/errors";
import {
  animatedWebp,
  apng,
  jpeg,
  jpegBody,
  jpegFrame,
  jpegSegment,
  jpegWithHiddenFrame,
  jpegWithTwoFrames,
  nonInterleavedJpeg,
  png,
  pngBomb,
  progressiveJpeg,
  webpWithCanvas,
} from "./support/crafted-images";

const TEM = 0x01;
const RST0 = 0xd0;

function gradient(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([(i / 4) % 256, 120, 200, 255], i);
  return { data, width, height };
}

/** The error the inspector throws for `bytes`, or null when it accepts them. */
function refusal(bytes: Uint8Array, maxPixels = MAX_IMAGE_PIXELS): { code: string; message: string } | null {
  try {
    inspectImage(bytes, maxPixels);
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, message: error.message };
  }
}

beforeAll(async () => {
  await Promise.all([initJpegDecode(JPEG_DECODER), initJpegEncode(JPEG_ENCODER)]);
});

describe("the image inspector reads what the decoders read", () => {
  it("vouches for the size of real encoders' output, which then decodes to that size", async () => {
    const source = gradient(203, 117);
    const files: [string, Uint8Array][] = [];
    for (const format of ["png", "jpeg", "webp"] as const) files.push([format, (await encodeImage(source, format)).bytes]);
    const mozjpeg = async (options: Partial<typeof jpegDefaults>) =>
      new Uint8Array(
        await jpegEncode({ ...source, colorSpace: "srgb" } as Parameters<typeof jpegEncode>[0], { ...jpegDefaults, ...options }),
      );
    files.push(["baseline JPEG", await mozjpeg({ baseline: true, progressive: false })]);
    files.push(["progressive 4:4:4 JPEG", await mozjpeg({ progressive: true, chroma_subsample: 1 })]);
    files.push(["greyscale JPEG", await mozjpeg({ color_space: 1 })]);
    files.push(["hand-built grey JPEG", jpeg(40, 24)]);
    files.push(["hand-built YCbCr JPEG", jpeg(40, 24, { components: 3 })]);
    for (const [name, bytes] of files) {
      const header = inspectImage(bytes, MAX_IMAGE_PIXELS);
      const decoded = await decodeImage(bytes, MAX_IMAGE_PIXELS);
      const expected = name.startsWith("hand-built") ? [40, 24] : [203, 117];
      expect([header.width, header.height, decoded.width, decoded.height], name).toEqual([...expected, ...expected]);
    }
  });

  it.each([
    ["TEM given a length", jpegWithHiddenFrame(64, 32, TEM)],
    ["RST0 given a length, then stray bytes", jpegWithHiddenFrame(64, 32, RST0, 6)],
  ])("refuses a JPEG that a loose walk reads as 1x1 while MozJPEG decodes its hidden frame (%s)", async (_, bytes) => {
    // The file is a real attack: the decoder itself (unguarded) reads the hidden 64x32 frame.
    const unguarded = await jpegDecode(bytes.slice().buffer);
    expect([unguarded.width, unguarded.height]).toEqual([64, 32]);
    expect(refusal(bytes)).toMatchObject({ code: "INVALID_IMAGE" });
    await expect(decodeImage(bytes, MAX_IMAGE_PIXELS)).rejects.toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("refuses the same trick hiding a frame over the pixel limit, before any decoding", async () => {
    const bomb = jpegWithHiddenFrame(8192, 8192, TEM);
    expect(bomb.byteLength).toBeLessThan(300);
    await expect(decodeImage(bomb, MAX_IMAGE_PIXELS)).rejects.toBeInstanceOf(AppError);
  });

  it("refuses a hostile model answer even where conversion would keep its bytes as they are", async () => {
    const hostile = jpegWithHiddenFrame(8192, 8192, TEM);
    await expect(convertImage(hostile, "jpeg", { maxPixels: MAX_IMAGE_PIXELS })).rejects.toMatchObject({ code: "INVALID_IMAGE" });
    await expect(convertImage(hostile, "png", { maxPixels: MAX_IMAGE_PIXELS })).rejects.toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("refuses a JPEG with two frame headers, in the header or after a scan", () => {
    expect(refusal(jpegWithTwoFrames(64, 32))).toMatchObject({
      code: "INVALID_IMAGE",
      message: expect.stringContaining("frame header"),
    });
    const scanThenFrame = jpeg(16, 16);
    const body = jpegBody();
    const afterScan = new Uint8Array([...scanThenFrame.slice(0, -2), ...jpegFrame(64, 32), ...body]);
    expect(refusal(afterScan)).toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("refuses a scan after a baseline scan of every component, which MozJPEG fails to decode", async () => {
    const complete = jpeg(16, 16);
    const secondScan = [...jpegSegment(0xda, [1, 1, 0x00, 0, 63, 0x00]), 0, 0, 0, 0];
    const bytes = new Uint8Array([...complete.slice(0, -2), ...secondScan, 0xff, 0xd9]);
    await expect(jpegDecode(bytes.slice().buffer)).rejects.toThrow();
    expect(refusal(bytes)).toMatchObject({ code: "INVALID_IMAGE", message: expect.stringContaining("scan") });
  });

  it("reads a frame header inside a comment or APP1 as the decoder does: as data", async () => {
    const decoy = jpegFrame(8192, 8192);
    const bytes = new Uint8Array([
      0xff,
      0xd8,
      ...jpegSegment(0xfe, decoy),
      ...jpegSegment(0xe1, [...decoy, ...decoy]),
      ...jpeg(24, 16).slice(2),
    ]);
    expect(inspectImage(bytes, MAX_IMAGE_PIXELS)).toMatchObject({ width: 24, height: 16 });
    expect(await decodeImage(bytes, MAX_IMAGE_PIXELS)).toMatchObject({ width: 24, height: 16 });
  });

  it("refuses what libjpeg would skip or read without a length: stray bytes, TEM, RST, data after EOI", () => {
    const valid = jpeg(16, 16);
    const afterSoi = (inserted: number[]) => new Uint8Array([0xff, 0xd8, ...inserted, ...valid.slice(2)]);
    expect(refusal(afterSoi([0x00]))).toMatchObject({ code: "INVALID_IMAGE", message: expect.stringContaining("stray") });
    expect(refusal(afterSoi([0xff, TEM]))).toMatchObject({ code: "INVALID_IMAGE" });
    expect(refusal(afterSoi([0xff, RST0]))).toMatchObject({ code: "INVALID_IMAGE" });
    // FF fill before a marker is allowed by the standard and read alike by everyone.
    expect(refusal(afterSoi([0xff, 0xff]))).toBeNull();
    expect(refusal(new Uint8Array([...valid, 0x3c, 0x68]))).toMatchObject({ code: "INVALID_IMAGE" });
    expect(refusal(valid.slice(0, -2))).toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("finds markers in entropy-coded data as the decoder does: stuffing and restarts are data", () => {
    const valid = jpeg(16, 16);
    // Scan data ending in a stuffed FF, a restart marker and more data, then EOI.
    const withRestart = new Uint8Array([...valid.slice(0, -2), 0xff, 0x00, 0xff, RST0, 0x00, 0xff, 0xff, 0xd9]);
    expect(refusal(withRestart)).toBeNull();
    // A TEM inside the data would end the scan for libjpeg and be skipped without a length.
    const withTem = new Uint8Array([...valid.slice(0, -2), 0xff, TEM, 0x00, 0x05, 0xff, 0xd9]);
    expect(refusal(withTem)).toMatchObject({ code: "INVALID_IMAGE" });
  });

  it(`caps a progressive JPEG at ${MAX_JPEG_SCANS} scans`, () => {
    expect(refusal(progressiveJpeg(64, 64, MAX_JPEG_SCANS))).toBeNull();
    expect(refusal(progressiveJpeg(64, 64, MAX_JPEG_SCANS + 1))).toMatchObject({
      code: "INVALID_IMAGE",
      message: expect.stringContaining(`more than ${MAX_JPEG_SCANS} scans`),
    });
  });

  it("refuses a multi-scan JPEG whose coefficient buffer would take its decode past the budget of an 8 MP baseline image", () => {
    // 4:4:4 costs 8 + 6 bytes a pixel against 8 for a baseline image: 4/7 of the pixels, 4793490.
    // 2048x2336 is 4784128 pixels; 2048x2344 (the next whole row of blocks), 4800512.
    expect(refusal(jpeg(4096, 2048, { components: 3 }))).toBeNull();
    expect(refusal(progressiveJpeg(2048, 2336, 3, 3))).toBeNull();
    expect(refusal(nonInterleavedJpeg(2048, 2336))).toBeNull();
    for (const bytes of [progressiveJpeg(2048, 2344, 3, 3), progressiveJpeg(4096, 2048, 3, 3)]) {
      expect(refusal(bytes)).toMatchObject({ code: "IMAGE_TOO_LARGE", message: expect.stringContaining("progressive JPEG") });
    }
    expect(refusal(nonInterleavedJpeg(2048, 2344))).toMatchObject({
      code: "IMAGE_TOO_LARGE",
      message: expect.stringContaining("multi-scan JPEG"),
    });
    // Grey costs 8 + 2 bytes a pixel: 4/5 of the pixels, 6710886; 2048x3272 is 6701056, 2048x3280 6717440.
    expect(refusal(progressiveJpeg(2048, 3272, 3))).toBeNull();
    expect(refusal(progressiveJpeg(2048, 3280, 3))).toMatchObject({ code: "IMAGE_TOO_LARGE" });
  });

  it("refuses CMYK, 12-bit and arithmetic-coded JPEG, which this MozJPEG build cannot decode", async () => {
    for (const [bytes, words] of [
      [jpeg(16, 8, { components: 4 }), "CMYK"],
      [jpeg(16, 8, { precision: 12 }), "12-bit"],
      [jpeg(16, 8, { marker: 0xc9 }), "arithmetic"],
    ] as const) {
      // The decoder fails on these too, but only once it has read the headers.
      await expect(jpegDecode(bytes.slice().buffer), words).rejects.toBeDefined();
      expect(refusal(bytes), words).toMatchObject({ code: "UNSUPPORTED_IMAGE_FEATURE", message: expect.stringContaining(words) });
    }
  });

  it("refuses a PNG whose IHDR is over the limit, however small its IDAT", async () => {
    const bomb = await pngBomb(100_000, 100_000);
    expect(bomb.byteLength).toBeLessThan(100);
    expect(refusal(bomb)).toMatchObject({ code: "IMAGE_TOO_LARGE" });
    await expect(decodeImage(bomb, MAX_IMAGE_PIXELS)).rejects.toMatchObject({ code: "IMAGE_TOO_LARGE" });
    // The limit is the caller's: a watermark-sized one refuses what an upload would take.
    expect(refusal(await png(2000, 600), 1024 * 1024)).toMatchObject({ code: "IMAGE_TOO_LARGE" });
  });

  it("decodes a 16-bit PNG to 8-bit RGBA with the right colours", async () => {
    const deep = await png(4, 2, [0xff, 0xff, 0x00, 0x00, 0x80, 0x00], { depth: 16, colourType: 2 });
    const decoded = await decodeImage(deep, MAX_IMAGE_PIXELS);
    expect([decoded.width, decoded.height, decoded.data.length]).toEqual([4, 2, 32]);
    expect([...decoded.data.subarray(0, 4)]).toEqual([255, 0, 128, 255]);
  });

  it("decodes an APNG to its default image, and refuses one whose first frame does not cover it", async () => {
    const decoded = await decodeImage(await apng(8, 8), MAX_IMAGE_PIXELS);
    expect([decoded.width, decoded.height]).toEqual([8, 8]);
    expect([...decoded.data.subarray(0, 4)]).toEqual([255, 0, 0, 255]);
    expect(refusal(await apng(8, 8, { width: 4, height: 4 }))).toMatchObject({ code: "INVALID_IMAGE" });
  });

  it("refuses a WebP whose VP8X canvas differs from its bitstream, and animated WebP", async () => {
    const webp = (await encodeImage(gradient(64, 48), "webp")).bytes;
    const extended = webpWithCanvas(webp, 64, 48);
    expect(await decodeImage(extended, MAX_IMAGE_PIXELS)).toMatchObject({ width: 64, height: 48 });
    expect(refusal(webpWithCanvas(webp, 1, 1))).toMatchObject({
      code: "INVALID_IMAGE",
      message: expect.stringContaining("canvas"),
    });
    expect(refusal(webpWithCanvas(webp, 4096, 4096))).toMatchObject({ code: "IMAGE_TOO_LARGE" });
    expect(refusal(animatedWebp(webp, 64, 48))).toMatchObject({
      code: "UNSUPPORTED_IMAGE_FEATURE",
      message: expect.stringContaining("animation"),
    });
  });
});
