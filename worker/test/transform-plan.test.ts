import { describe, expect, it } from "vitest";
import { planTransform } from "../src/images/transform/geometry";
import { canonicalOptions, needsSignature, parseTransformOptions } from "../src/images/transform/options";
import { expandPreset } from "../src/images/transform/presets";

const parse = (query: string) => parseTransformOptions(new URLSearchParams(query));

describe("canonical options", () => {
  it("orders options and normalizes spellings, so equivalent URLs share one key", () => {
    expect(canonicalOptions(parse("format=jpg&h=200&w=300&watermark=true"))).toBe("w=300&h=200&format=jpeg&watermark=1");
    expect(canonicalOptions(parse("w=300&h=200&format=jpeg&watermark=1"))).toBe("w=300&h=200&format=jpeg&watermark=1");
    expect(canonicalOptions(parse("expires=1&sig=x&crop=0,0,10,10"))).toBe("crop=0,0,10,10");
  });

  it("expands a built-in preset to the options it stands for", () => {
    const expanded = expandPreset(parse("preset=thumbnail&format=webp"), {});
    expect(canonicalOptions(expanded)).toBe(canonicalOptions(parse("w=256&h=256&fit=cover&format=webp")));
  });

  it("asks a signature for arbitrary work only", () => {
    expect(needsSignature(parse("preset=small&format=auto&watermark=0"))).toBe(false);
    for (const query of ["w=1", "h=1", "crop=0,0,1,1", "q=50", "w=5&gravity=north"])
      expect(needsSignature(parse(query))).toBe(true);
  });
});

describe("planTransform on a 400x300 source", () => {
  it("cover crops the middle (or by gravity) and fills the box", () => {
    expect(planTransform(400, 300, { width: 100, height: 100 })).toEqual({
      source: { x: 50, y: 0, width: 300, height: 300 },
      scaled: { width: 100, height: 100 },
      canvas: { width: 100, height: 100, x: 0, y: 0 },
    });
    expect(planTransform(400, 300, { width: 100, height: 100, gravity: "east" }).source.x).toBe(100);
    expect(planTransform(400, 300, { width: 100, height: 100, gravity: { x: 0, y: 0 } }).source.x).toBe(0);
    // A focal point is the centre of what is read, kept inside the source.
    expect(planTransform(1000, 500, { width: 100, height: 100, gravity: { x: 0.25, y: 0.5 } }).source.x).toBe(0);
    expect(planTransform(1000, 500, { width: 100, height: 100, gravity: { x: 0.6, y: 0.5 } }).source.x).toBe(350);
    expect(planTransform(1000, 500, { width: 100, height: 100, gravity: { x: 1, y: 0.5 } }).source.x).toBe(500);
  });

  it("contain pads, inside and outside keep the ratio, fill stretches", () => {
    expect(planTransform(400, 300, { width: 100, height: 100, fit: "contain" }).canvas).toEqual({
      width: 100,
      height: 100,
      x: 0,
      y: 13,
    });
    expect(planTransform(400, 300, { width: 100, height: 100, fit: "inside" }).canvas).toMatchObject({ width: 100, height: 75 });
    expect(planTransform(400, 300, { width: 100, height: 100, fit: "outside" }).canvas).toMatchObject({
      width: 133,
      height: 100,
    });
    expect(planTransform(400, 300, { width: 100, height: 10, fit: "fill" }).scaled).toEqual({ width: 100, height: 10 });
  });

  it("crops first, then sizes the crop", () => {
    const plan = planTransform(400, 300, { crop: { x: 10, y: 20, width: 200, height: 100 }, width: 50 });
    expect(plan.source).toEqual({ x: 10, y: 20, width: 200, height: 100 });
    expect(plan.scaled).toEqual({ width: 50, height: 25 });
  });

  it("never reads outside the source, even for extreme ratios", () => {
    const plan = planTransform(1000, 3, { width: 1, height: 1000, gravity: "east" });
    expect(plan.source.x + plan.source.width).toBeLessThanOrEqual(1000);
    expect(plan.source.width).toBeGreaterThanOrEqual(1);
  });

  it("refuses sides beyond 4096 even within the pixel limit", () => {
    expect(() => planTransform(8192, 1024, { width: 100, height: 1024, fit: "outside" })).toThrow(/on a side/);
  });

  it("refuses crops outside the source and outputs beyond the pixel limit", () => {
    expect(() => planTransform(400, 300, { crop: { x: 300, y: 0, width: 101, height: 10 } })).toThrow(/crop/);
    expect(() => planTransform(400, 300, { width: 4096, height: 4096, fit: "fill" })).toThrow(/pixels/);
  });
});
