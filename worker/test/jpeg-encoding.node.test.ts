import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeRgb, encodeJpegLikeWorker, psnr, type RgbPixels } from "../../bench/image-quality.ts";
import { photoPixels } from "../../bench/photo.ts";
import { DEFAULT_QUALITY } from "../src/domain/catalog";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { inspectImage } from "../src/images/inspect";
import { jpegEncodeOptions } from "../src/images/jpeg-settings";

const WIDTH = 960;
const HEIGHT = 640;

/** The luma component's sampling factors from the progressive frame header (SOF2), as "HxV". */
function lumaSampling(jpeg: Uint8Array): string {
  const frame = Buffer.from(jpeg).indexOf(Buffer.from([0xff, 0xc2]));
  if (frame < 0) throw new Error("no progressive frame header");
  // FFC2, length (2), precision (1), height (2), width (2), components (1), then id and factors.
  const factors = jpeg[frame + 11] as number;
  return `${factors >> 4}x${factors & 0x0f}`;
}

describe("JPEG bytes on the wire: the Worker's MozJPEG settings against sharp's MozJPEG", () => {
  const source: RgbPixels = { data: photoPixels(WIDTH, HEIGHT), width: WIDTH, height: HEIGHT };
  let ours: Uint8Array;
  let theirs: Uint8Array;
  beforeAll(async () => {
    ours = await encodeJpegLikeWorker(source, jpegEncodeOptions(DEFAULT_QUALITY.jpeg));
    theirs = await sharp(source.data, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg({ quality: DEFAULT_QUALITY.jpeg, mozjpeg: true })
      .toBuffer();
  });

  it("encodes a 960x640 photo at the default quality within 5% of sharp's size, at equal or better PSNR", async () => {
    const ourPsnr = psnr(source, await decodeRgb(ours));
    const theirPsnr = psnr(source, await decodeRgb(theirs));
    const figures = `ours ${ours.length} B at ${ourPsnr.toFixed(3)} dB, sharp's ${theirs.length} B at ${theirPsnr.toFixed(3)} dB`;
    expect(ours.length, figures).toBeLessThanOrEqual(theirs.length * 1.05);
    expect(ourPsnr, figures).toBeGreaterThanOrEqual(theirPsnr);
  });

  it("writes a progressive JPEG that the inspector accepts when the output is read again as a source", () => {
    const header = inspectImage(ours, MAX_IMAGE_PIXELS);
    expect([header.format, header.width, header.height]).toEqual(["jpeg", WIDTH, HEIGHT]);
    // SOF2: the progressive frame header.
    expect(Buffer.from(ours).includes(Buffer.from([0xff, 0xc2]))).toBe(true);
  });

  it("halves chroma both ways (4:2:0) below quality 90 and keeps it whole (4:4:4) from 90", async () => {
    const small = { data: photoPixels(64, 64), width: 64, height: 64 };
    const sampling = async (quality: number) => lumaSampling(await encodeJpegLikeWorker(small, jpegEncodeOptions(quality)));
    expect([await sampling(50), await sampling(85), await sampling(89), await sampling(90), await sampling(100)]).toEqual([
      "2x2",
      "2x2",
      "2x2",
      "1x1",
      "1x1",
    ]);
  });
});
