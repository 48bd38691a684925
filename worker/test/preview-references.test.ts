import { describe, expect, it } from "vitest";
import { MAX_IMAGE_PIXELS } from "../src/domain/limits";
import { decodeImage, type RgbaImage } from "../src/images/codec";
import type { ReferenceImage } from "../src/providers/image-model";
import { loadReferences } from "../src/services/references";
import { freshProjectKey } from "./support/generation";
import { offlineModels, solidPng, testStore, uploadReference } from "./support/references";

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];

async function solidReference(colour: [number, number, number], width = 64, height = 64): Promise<ReferenceImage> {
  return { bytes: await solidPng(width, height, colour), mimeType: "image/png", width, height, label: null };
}

function pixel(image: RgbaImage, x: number, y: number): number[] {
  const at = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [...image.data.subarray(at, at + 3)];
}

async function preview(prompt: string, references: ReferenceImage[]) {
  const generated = await offlineModels().imageModel.generate({ prompt, aspectRatio: "1:1", references });
  return { bytes: generated.bytes, image: await decodeImage(generated.bytes, MAX_IMAGE_PIXELS) };
}

describe("the offline preview shows the references it got", () => {
  it("draws one stored reference in the middle of the picture", async () => {
    const { key } = await freshProjectKey();
    const stored = await uploadReference(key.key, await solidPng(64, 64, RED), "red.png", "@red");
    const references = await loadReferences({ store: testStore() }, [stored]);
    const { image } = await preview("a red square", references);

    expect(image.width).toBe(1024);
    expect(pixel(image, 512, 512)).toEqual(RED);
  });

  it("draws two or three references side by side, in order, across the middle", async () => {
    const { image: three } = await preview("three squares", [
      await solidReference(RED),
      await solidReference(GREEN),
      await solidReference(BLUE),
    ]);
    expect([1, 3, 5].map((sixth) => pixel(three, (1024 * sixth) / 6, 512))).toEqual([RED, GREEN, BLUE]);

    const { image: two } = await preview("two squares", [await solidReference(BLUE, 40, 80), await solidReference(RED)]);
    expect([1, 3].map((quarter) => pixel(two, (1024 * quarter) / 4, 512))).toEqual([BLUE, RED]);
  });

  it("is deterministic, and its background changes with the references' contents", async () => {
    const red = [await solidReference(RED)];
    const first = await preview("same prompt", red);
    const again = await preview("same prompt", red);
    expect(again.bytes).toEqual(first.bytes);

    const other = await preview("same prompt", [await solidReference([254, 0, 0])]);
    // A corner, outside the reference's cell: the gradient behind it.
    expect(pixel(other.image, 5, 1000)).not.toEqual(pixel(first.image, 5, 1000));
  });
});
