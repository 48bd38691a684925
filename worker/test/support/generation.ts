import JPEG_DECODER from "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm";
import jpegDecode, { init as initJpegDecode } from "@jsquash/jpeg/decode";
import WEBP_DECODER from "@jsquash/webp/codec/dec/webp_dec.wasm";
import webpDecode, { init as initWebpDecode } from "@jsquash/webp/decode";
import { MAX_IMAGE_PIXELS } from "../../src/domain/limits";
import { decodeImage as decodeChecked } from "../../src/images/codec";
import { api, testEnv } from "./app";
import { createProject, insertKey, type TestKey, type TestProject, withDb } from "./fixtures";

/** Bindings that switch the Worker to Gemini, served by the project's Gemini-protocol fake. */
export const GEMINI_ENV = { GEMINI_API_KEY: "test-gemini-key", GEMINI_TIMEOUT_MS: "1500", GEMINI_MAX_ATTEMPTS: "3" };

/** An image part as the fake records it: its MIME type, byte count, sha256 and header size, not its data. */
export interface FakeImagePart {
  mimeType: string;
  bytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
}

export type FakePart = { text: string; inlineData?: undefined } | { inlineData: FakeImagePart; text?: undefined };

/** What the fake reported a call used; absent for a call it refused. */
export interface FakeUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  promptTokensDetails?: { modality: string; tokenCount: number }[];
  candidatesTokensDetails?: { modality: string; tokenCount: number }[];
}

export interface FakeRequest {
  model: string;
  apiKey: string;
  receivedAt: number;
  usageMetadata?: FakeUsageMetadata;
  body: {
    contents: { parts: FakePart[] }[];
    systemInstruction?: { parts?: { text?: string }[] } | string;
    generationConfig?: { responseModalities?: string[]; responseMimeType?: string; imageConfig?: { aspectRatio?: string } };
  };
}

/** The calls the fake received whose prompt contains `marker`. */
export async function fakeRequests(marker: string): Promise<FakeRequest[]> {
  const all = (await (await fetch(`${testEnv.GEMINI_BASE_URL}/__fake/requests`)).json()) as FakeRequest[];
  return all.filter((request) => JSON.stringify(request.body.contents).includes(marker));
}

/** Makes the fake answer requests containing `marker` (for `model`, if given) with `text` or `status`. */
export async function scriptFake(script: { marker: string; model?: string; text?: string; status?: number }): Promise<void> {
  await fetch(`${testEnv.GEMINI_BASE_URL}/__fake/script`, { method: "POST", body: JSON.stringify(script) });
}

export function marker(): string {
  return `m${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** A project of its own with a key, so listings of its storage prefix see only this test's objects. */
export async function freshProjectKey(): Promise<{ scope: TestProject; key: TestKey }> {
  return withDb(async (db) => {
    const scope = await createProject(db);
    return { scope, key: await insertKey(db, { type: "project", scope }) };
  });
}

let decodersReady: Promise<unknown> | undefined;

/** Decodes a stored file the way a browser would, to check what was really stored. */
export async function decodeImage(bytes: Uint8Array, mimeType: string): Promise<{ width: number; height: number }> {
  decodersReady ??= Promise.all([initJpegDecode(JPEG_DECODER), initWebpDecode(WEBP_DECODER)]);
  await decodersReady;
  if (mimeType === "image/png") return decodeChecked(bytes, MAX_IMAGE_PIXELS);
  if (mimeType === "image/jpeg") return jpegDecode(bytes.slice().buffer);
  if (mimeType === "image/webp") return webpDecode(bytes.slice().buffer);
  throw new Error(`not an image type: ${mimeType}`);
}

/** Downloads an image through its public URL, as a browser would. */
export async function download(url: string): Promise<{ response: Response; bytes: Uint8Array }> {
  const response = await api(new URL(url).pathname);
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}
