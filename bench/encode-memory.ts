/**
 * What encoding one output costs with the Worker's encoders (jSquash's MozJPEG, libwebp and the
 * rust `png` crate, the same WASM modules workerd runs), by size and quality. Each case runs in a
 * fresh WASM instance, because WASM memory only grows: its size after the encode is the
 * encoder's peak, which the isolate then keeps for good. Run: `npx node bench/encode-memory.ts`.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { EncodeOptions } from "@jsquash/jpeg/meta.js";
import { defaultOptions as webpDefaults } from "@jsquash/webp/meta.js";
import { DEFAULT_QUALITY } from "../worker/src/domain/catalog.ts";
import { jpegEncodeOptions } from "../worker/src/images/jpeg-settings.ts";
import { photoPixels } from "./photo.ts";

const MIB = 1024 * 1024;
const require = createRequire(import.meta.url);

/**
 * Compiles a package's WASM file. The Worker's types (this file is type-checked with the tests)
 * declare WebAssembly.Module abstract, as Workers only import compiled modules; Node compiles them.
 */
function compileWasm(path: string): WebAssembly.Module {
  const Module = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;
  return new Module(readFileSync(require.resolve(path)));
}

interface EmscriptenEncoder {
  encode(data: Uint8ClampedArray, width: number, height: number, options: object): Uint8Array | null;
}
type EmscriptenFactory<Module> = (options: object) => Promise<Module>;

/** A fresh instance of an Emscripten codec (encoder or decoder), with a handle on its memory. */
export async function freshEmscripten<Module = EmscriptenEncoder>(wasmPath: string, jsPath: string) {
  const wasm = compileWasm(wasmPath);
  const { default: factory } = (await import(jsPath)) as { default: EmscriptenFactory<Module> };
  let memory: WebAssembly.Memory | undefined;
  const module = await factory({
    noInitialRun: true,
    instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(wasm, imports);
      memory = Object.values(instance.exports).find((value) => value instanceof WebAssembly.Memory);
      done(instance);
      return instance.exports;
    },
  });
  if (!memory) throw new Error(`${wasmPath} exports no memory`);
  return { module, memory };
}

let pngInstances = 0;
/** wasm-bindgen keeps one instance per loaded script, so each case loads the script afresh. */
async function freshPng() {
  const url = pathToFileURL(require.resolve("@jsquash/png/codec/pkg/squoosh_png.js"));
  url.search = `instance=${pngInstances++}`;
  const script = (await import(url.href)) as {
    initSync(module: WebAssembly.Module): { memory: WebAssembly.Memory };
    encode(data: Uint8Array, width: number, height: number, bitDepth: number): Uint8Array;
  };
  const exports = script.initSync(compileWasm("@jsquash/png/codec/pkg/squoosh_png_bg.wasm"));
  return { script, memory: exports.memory };
}

/** Opaque photo-like RGBA, as the pipeline hands the encoder after resizing. */
export function photoRgba(width: number, height: number): Uint8ClampedArray {
  const rgb = photoPixels(width, height);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i] as number;
    rgba[j + 1] = rgb[i + 1] as number;
    rgba[j + 2] = rgb[i + 2] as number;
    rgba[j + 3] = 255;
  }
  return rgba;
}

/**
 * Opaque seeded noise: the worst case for an encoder, whose memory grows with the bytes it
 * writes, and what anyone can upload.
 */
export function noiseRgba(width: number, height: number, seed = 1): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  let state = seed >>> 0;
  for (let i = 0; i < rgba.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    rgba[i] = i % 4 === 3 ? 255 : state >>> 24;
  }
  return rgba;
}

export interface EncodeMemory {
  /** The fresh instance's memory before encoding. */
  before: number;
  /** Its memory after the encode: the encoder's peak, kept by the isolate. */
  after: number;
  bytes: number;
}

export type EncodedFormat = "jpeg" | "webp" | "png";

/** Encodes `rgba` in a fresh instance of the Worker's encoder for `format` and reports its memory. */
export async function measureEncode(
  format: EncodedFormat,
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  options: { quality?: number; jpeg?: Partial<EncodeOptions> } = {},
): Promise<EncodeMemory> {
  if (format === "png") {
    const { script, memory } = await freshPng();
    const before = memory.buffer.byteLength;
    const output = script.encode(new Uint8Array(rgba.buffer), width, height, 8);
    return { before, after: memory.buffer.byteLength, bytes: output.byteLength };
  }
  const { module, memory } =
    format === "jpeg"
      ? await freshEmscripten("@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm", "@jsquash/jpeg/codec/enc/mozjpeg_enc.js")
      : await freshEmscripten("@jsquash/webp/codec/enc/webp_enc_simd.wasm", "@jsquash/webp/codec/enc/webp_enc_simd.js");
  const quality = options.quality ?? DEFAULT_QUALITY[format];
  const encodeOptions = format === "jpeg" ? { ...jpegEncodeOptions(quality), ...options.jpeg } : { ...webpDefaults, quality };
  const before = memory.buffer.byteLength;
  const output = module.encode(rgba, width, height, encodeOptions);
  if (!output) throw new Error(`${format} encoding failed`);
  return { before, after: memory.buffer.byteLength, bytes: output.byteLength };
}

if (import.meta.main) {
  const sizes: [number, number][] = [
    [1024, 1024],
    [1280, 1024],
    [2048, 1024],
    [2048, 2048],
    [4096, 2048],
  ];
  type Case = [EncodedFormat, string, { quality?: number; jpeg?: Partial<EncodeOptions>; noise?: boolean }];
  const cases: Case[] = [
    ["jpeg", "q82 (4:2:0)", { quality: 82 }],
    ["jpeg", "q100 (4:4:4)", { quality: 100 }],
    ["jpeg", "q82 baseline", { quality: 82, jpeg: { progressive: false, baseline: true } }],
    ["jpeg", "q82 no optimize_coding", { quality: 82, jpeg: { optimize_coding: false } }],
    ["jpeg", "q100 baseline, no optimize_coding", { quality: 100, jpeg: { progressive: false, optimize_coding: false } }],
    ["jpeg", "q100, noise", { quality: 100, noise: true }],
    ["webp", "q80", { quality: 80 }],
    ["webp", "q100", { quality: 100 }],
    ["webp", "q100, noise", { quality: 100, noise: true }],
    ["png", "", {}],
  ];
  console.log("Encoder WASM memory after one encode in a fresh instance, MiB (photo-like pixels unless noise):");
  console.log("format case                                size        MP   RGBA  before  after  file");
  for (const [width, height] of sizes) {
    const photo = photoRgba(width, height);
    const noise = noiseRgba(width, height);
    for (const [format, name, options] of cases) {
      const rgba = options.noise ? noise : photo;
      const { before, after, bytes } = await measureEncode(format, rgba, width, height, options);
      const cells = [rgba.byteLength, before, after, bytes].map((value) => (value / MIB).toFixed(1).padStart(6));
      console.log(
        `${format.padEnd(7)}${name.padEnd(37)}${`${width}x${height}`.padEnd(10)}${((width * height) / 1e6).toFixed(1).padStart(5)} ${cells.join(" ")}`,
      );
    }
  }
}
