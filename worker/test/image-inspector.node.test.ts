import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { inspectImage } from "../src/images/inspect";

/** Noise makes real entropy-coded data: many FF bytes to stuff, long scans to walk. */
function noise(width: number, height: number, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } } });
}

describe("the image inspector on another encoder's output (sharp: libjpeg-turbo, MozJPEG, libpng, libwebp)", () => {
  it.each([
    ["baseline JPEG", () => noise(1201, 803).jpeg()],
    ["progressive JPEG", () => noise(1201, 803).jpeg({ progressive: true })],
    ["MozJPEG with its optimized scans", () => noise(1201, 803).jpeg({ mozjpeg: true })],
    [
      "4:4:4 JPEG with EXIF",
      () =>
        noise(640, 480)
          .jpeg({ chromaSubsampling: "4:4:4" })
          .withExif({ IFD0: { Artist: "Banatie" } }),
    ],
    ["greyscale JPEG", () => noise(640, 480).greyscale().jpeg()],
    ["8-bit PNG with alpha", () => noise(300, 200, 4).png()],
    ["palette PNG", () => noise(300, 200).png({ palette: true })],
    ["16-bit PNG", () => noise(300, 200).toColourspace("rgb16").png()],
    ["interlaced PNG", () => noise(300, 200).png({ progressive: true })],
    ["lossy WebP", () => noise(640, 480).webp()],
    ["lossless WebP", () => noise(300, 200).webp({ lossless: true })],
    ["WebP with alpha", () => noise(300, 200, 4).webp()],
    ["WebP with an ICC profile", () => noise(300, 200).webp().withIccProfile("p3")],
  ] as const)("vouches for the size of a %s", async (_, build) => {
    const { data, info } = await build().toBuffer({ resolveWithObject: true });
    const header = inspectImage(new Uint8Array(data), MAX_IMAGE_PIXELS);
    expect([header.format, header.width, header.height]).toEqual([info.format, info.width, info.height]);
  });

  it("refuses sharp's progressive JPEG where buffering its coefficients passes an 8 MP baseline image's memory", async () => {
    const flat = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: "#3a7bd5" } });
    const accepted = [
      ["baseline 4:4:4, 4096x2048", flat(4096, 2048).jpeg({ chromaSubsampling: "4:4:4" })],
      ["progressive 4:4:4, 2048x2336", flat(2048, 2336).jpeg({ progressive: true, chromaSubsampling: "4:4:4" })],
      ["progressive 4:2:0, 2048x2944", flat(2048, 2944).jpeg({ progressive: true })],
    ] as const;
    for (const [name, build] of accepted) {
      const bytes = new Uint8Array(await build.toBuffer());
      expect(() => inspectImage(bytes, MAX_IMAGE_PIXELS), name).not.toThrow();
    }
    const refused = [
      ["progressive 4:4:4, 4096x2048", flat(4096, 2048).jpeg({ progressive: true, chromaSubsampling: "4:4:4" })],
      ["progressive 4:4:4, 2048x2344", flat(2048, 2344).jpeg({ progressive: true, chromaSubsampling: "4:4:4" })],
      ["progressive 4:2:0, 4096x2048", flat(4096, 2048).jpeg({ progressive: true })],
    ] as const;
    for (const [name, build] of refused) {
      const bytes = new Uint8Array(await build.toBuffer());
      expect(() => inspectImage(bytes, MAX_IMAGE_PIXELS), name).toThrow(
        expect.objectContaining({ code: "IMAGE_TOO_LARGE", message: expect.stringMatching(/progressive JPEG.*MiB to decode/) }),
      );
    }
  });

  it("refuses sharp's CMYK JPEG as unsupported, naming CMYK", async () => {
    const cmyk = await noise(64, 48).toColourspace("cmyk").jpeg().toBuffer();
    expect(() => inspectImage(new Uint8Array(cmyk), MAX_IMAGE_PIXELS)).toThrow(/CMYK/);
  });

  it("refuses sharp's animated WebP as unsupported", async () => {
    const frames = [await noise(32, 32).png().toBuffer(), await noise(32, 32).png().toBuffer()];
    const animated = await sharp(frames, { join: { animated: true } })
      .webp()
      .toBuffer();
    expect(() => inspectImage(new Uint8Array(animated), MAX_IMAGE_PIXELS)).toThrow(/animation/);
  });
});
