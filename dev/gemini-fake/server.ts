import { createHash } from "node:crypto";
import http from "node:http";
import { listenOnLoopback } from "../stack/loopback-server.ts";
import { IMAGE_MIME_TYPES, imageSize, sniffFormat } from "./image-parts.ts";
import { encodePng } from "./png.ts";

/**
 * A Gemini-protocol HTTP server for tests and benchmarks. It answers
 * `POST /{version}/models/{model}:generateContent` as the real API does (and `GET
 * /{version}/models/{model}`, the free metadata call health checks make), and is scripted by
 * directives written into the prompt, so parallel tests never share state:
 *
 * - `[fake:delay=500]` waits 500 ms before answering
 * - `[fake:status=429]` (or 500, 503, ...) answers with Google's error body and that status
 * - `[fake:fail-first=2]` fails the first 2 calls with this exact prompt with 503, then succeeds
 * - `[fake:block=SAFETY]` answers with `promptFeedback.blockReason` and no candidates
 * - `[fake:finish=IMAGE_SAFETY]` answers with that finishReason and no image
 * - `[fake:text-only]` answers STOP with text and no image
 * - `[fake:reply=...]` answers a text request with exactly this text (up to the closing bracket)
 * - `[fake:malformed]` answers 200 with a body that is not JSON
 *
 * Replies that do not fit in a directive (JSON with brackets, say) are scripted with
 * `POST /__fake/script {marker, model?, text?, status?}`: a request whose prompt contains the
 * marker (and is for that model, if given) gets that text, or that error status.
 *
 * Image parts (`inlineData`) are checked as Google checks them: more than 3 images, a MIME type
 * other than PNG, JPEG, WebP, HEIC or HEIF, bytes that are not what the MIME type says, or a
 * request over 20 MiB is a 400 INVALID_ARGUMENT. They count as input tokens by Google's tile rule.
 *
 * Every call is recorded; `GET /__fake/requests` returns them and `POST /__fake/reset` clears them.
 * An image part is recorded as its MIME type, size in bytes, sha256 and pixel size, not its
 * base64, so the record stays small.
 */

interface Script {
  marker: string;
  model?: string;
  text?: string;
  status?: number;
}

/** An image part as the fake records it. */
export interface RecordedImage {
  mimeType: string;
  bytes: number;
  sha256: string;
  /** Read from the image's header; null when it cannot be (HEIF, or bytes that are no image). */
  width: number | null;
  height: number | null;
}

export type RecordedPart = { text: string } | { inlineData: RecordedImage };

export interface RecordedRequest {
  model: string;
  apiKey: string | undefined;
  body: GenerateContentRequest<RecordedPart>;
  /** Epoch milliseconds (fractional): tests order model calls against database and storage requests. */
  receivedAt: number;
  /** The usage the answer reported, for a call answered with a response. */
  usageMetadata?: ReturnType<typeof usage>;
}

type SentPart = { text?: string; inlineData?: { mimeType?: string; data?: string } };

interface GenerateContentRequest<Part = SentPart> {
  contents?: { role?: string; parts?: Part[] }[];
  systemInstruction?: unknown;
  generationConfig?: {
    responseModalities?: string[];
    responseMimeType?: string;
    imageConfig?: { aspectRatio?: string };
  };
}

export interface GeminiFake {
  url: string;
  port: number;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** Pixel sizes Gemini 2.5 Flash Image returns per aspect ratio. */
const SIZES: Record<string, [number, number]> = {
  "1:1": [1024, 1024],
  "2:3": [832, 1248],
  "3:2": [1248, 832],
  "3:4": [864, 1184],
  "4:3": [1184, 864],
  "4:5": [896, 1152],
  "5:4": [1152, 896],
  "9:16": [768, 1344],
  "16:9": [1344, 768],
  "21:9": [1536, 672],
};

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function directive(prompt: string, name: string): string | undefined {
  return (
    prompt.match(new RegExp(`\\[fake:${name}(?:=([^\\]]*))?\\]`))?.[1] ?? (prompt.includes(`[fake:${name}]`) ? "" : undefined)
  );
}

function errorBody(status: number, message: string) {
  return { error: { code: status, message, status: STATUS_NAMES[status] ?? "UNKNOWN" } };
}

/** Tokens Gemini 2.5 Flash Image writes for one image, whatever its aspect ratio. */
export const FAKE_IMAGE_TOKENS = 1290;

/** Google's limits on what a request may carry (Vertex AI and Gemini API docs). */
export const MAX_IMAGES_PER_REQUEST = 3;
export const MAX_REQUEST_BYTES = 20 * 1024 * 1024;

/**
 * Input tokens of an image by Google's rule: 258 when both sides are at most 384 px, otherwise
 * 258 for each 768x768 tile it is cut into. An image of unknown size counts as one tile.
 */
export function fakeImageTokens(width: number | null, height: number | null): number {
  if (width === null || height === null || (width <= 384 && height <= 384)) return 258;
  return Math.ceil(width / 768) * Math.ceil(height / 768) * 258;
}

/** The record of an image part, and the reason Google would refuse it, if it would. */
function recordImage(part: { mimeType?: string; data?: string }): { image: RecordedImage; refusal?: string } {
  const mimeType = part.mimeType ?? "";
  const bytes = Buffer.from(part.data ?? "", "base64");
  const format = sniffFormat(bytes);
  const size = format ? imageSize(bytes, format) : null;
  const image = {
    mimeType,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    width: size?.width ?? null,
    height: size?.height ?? null,
  };
  const expected = IMAGE_MIME_TYPES[mimeType];
  if (!expected) return { image, refusal: `Unsupported MIME type: ${mimeType}` };
  if (format !== expected) return { image, refusal: `Unable to process input image: the data is not a valid ${mimeType}` };
  return { image };
}

/** Gemini's rough token count of a text: about four characters a token. */
export const fakeTextTokens = (text: string) => Math.ceil(text.length / 4);

/**
 * `usageMetadata` as Gemini reports it, by modality: the prompt is text, and the candidates are
 * what the answer holds (1290 tokens per image, plus its text). A refusal of the prompt still
 * counts the prompt's tokens, and has no candidates to count.
 */
function usage(prompt: string, answer: { text?: string; image?: boolean } = {}, images: RecordedImage[] = []) {
  const textTokens = fakeTextTokens(prompt);
  const imageTokens = images.reduce((sum, image) => sum + fakeImageTokens(image.width, image.height), 0);
  const promptTokenCount = textTokens + imageTokens;
  const candidates = [
    ...(answer.text ? [{ modality: "TEXT", tokenCount: fakeTextTokens(answer.text) }] : []),
    ...(answer.image ? [{ modality: "IMAGE", tokenCount: FAKE_IMAGE_TOKENS }] : []),
  ];
  const candidatesTokenCount = candidates.reduce((sum, detail) => sum + detail.tokenCount, 0);
  return {
    promptTokenCount,
    promptTokensDetails: [
      { modality: "TEXT", tokenCount: textTokens },
      ...(images.length > 0 ? [{ modality: "IMAGE", tokenCount: imageTokens }] : []),
    ],
    ...(candidates.length > 0 ? { candidatesTokenCount, candidatesTokensDetails: candidates } : {}),
    totalTokenCount: promptTokenCount + candidatesTokenCount,
  };
}

export async function startGeminiFake(options: { port?: number; apiKey?: string } = {}): Promise<GeminiFake> {
  const requests: RecordedRequest[] = [];
  const failuresSoFar = new Map<string, number>();
  const scripts: Script[] = [];
  // Benchmarks repeat one prompt; drawing its PNG once keeps the fake's own time near zero.
  const pngCache = new Map<string, string>();

  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://fake");

    if (req.method === "GET" && url.pathname === "/__fake/requests") return send(200, requests);
    if (req.method === "POST" && url.pathname === "/__fake/reset") {
      requests.length = 0;
      failuresSoFar.clear();
      scripts.length = 0;
      return send(200, { ok: true });
    }
    if (req.method === "POST" && url.pathname === "/__fake/script") {
      const chunks: Buffer[] = [];
      for await (const part of req) chunks.push(part as Buffer);
      scripts.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Script);
      return send(200, { ok: true });
    }

    const described = url.pathname.match(/^\/(v1|v1beta|v1alpha)\/models\/([\w.-]+)$/);
    if (req.method === "GET" && described) {
      const apiKey = req.headers["x-goog-api-key"] as string | undefined;
      if (!apiKey || (options.apiKey && apiKey !== options.apiKey)) {
        return send(400, errorBody(400, "API key not valid. Please pass a valid API key."));
      }
      const model = described[2] ?? "";
      return send(200, { name: `models/${model}`, displayName: model, supportedGenerationMethods: ["generateContent"] });
    }

    const route = url.pathname.match(/^\/(v1|v1beta|v1alpha)\/models\/([\w.-]+):generateContent$/);
    if (req.method !== "POST" || !route) return send(404, errorBody(404, `No route for ${req.method} ${url.pathname}`));

    let body: GenerateContentRequest;
    try {
      // Read to the end either way, so the client gets the answer rather than a reset connection.
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const part of req) {
        size += (part as Buffer).length;
        if (size <= MAX_REQUEST_BYTES) chunks.push(part as Buffer);
      }
      if (size > MAX_REQUEST_BYTES) {
        return send(400, errorBody(400, `Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`));
      }
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as GenerateContentRequest;
    } catch {
      return send(400, errorBody(400, "Invalid JSON payload received."));
    }
    const apiKey = req.headers["x-goog-api-key"] as string | undefined;
    const model = route[2] ?? "";
    const refusals: string[] = [];
    const images: RecordedImage[] = [];
    const recordedContents = (body.contents ?? []).map((content) => ({
      ...content,
      parts: (content.parts ?? []).map((part): RecordedPart => {
        if (!part.inlineData) return { text: part.text ?? "" };
        const { image, refusal } = recordImage(part.inlineData);
        if (refusal) refusals.push(refusal);
        else images.push(image);
        return { inlineData: image };
      }),
    }));
    const recorded: RecordedRequest = {
      model,
      apiKey,
      body: { ...body, contents: recordedContents },
      receivedAt: performance.timeOrigin + performance.now(),
    };
    requests.push(recorded);

    if (!apiKey || (options.apiKey && apiKey !== options.apiKey)) {
      return send(400, errorBody(400, "API key not valid. Please pass a valid API key."));
    }
    if (refusals.length > 0) return send(400, errorBody(400, refusals[0] as string));
    if (images.length + refusals.length > MAX_IMAGES_PER_REQUEST) {
      return send(400, errorBody(400, `Too many images in the request: at most ${MAX_IMAGES_PER_REQUEST} are allowed.`));
    }

    const prompt = (body.contents ?? [])
      .flatMap((content) => content.parts ?? [])
      .map((part) => part.text ?? "")
      .join("\n");
    const answer = (status: number, response: { usageMetadata: ReturnType<typeof usage>; [member: string]: unknown }) => {
      recorded.usageMetadata = response.usageMetadata;
      return send(status, response);
    };
    const script = scripts.find((entry) => prompt.includes(entry.marker) && (!entry.model || entry.model === model));
    const delay = Number(directive(prompt, "delay") ?? 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    if (directive(prompt, "malformed") !== undefined) {
      res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
      return res.end("{ this is not json");
    }

    const status = Number(script?.status ?? directive(prompt, "status") ?? 0);
    if (status >= 400) return send(status, errorBody(status, `Scripted failure ${status}`));

    const failFirst = Number(directive(prompt, "fail-first") ?? 0);
    if (failFirst > 0) {
      const seen = failuresSoFar.get(prompt) ?? 0;
      if (seen < failFirst) {
        failuresSoFar.set(prompt, seen + 1);
        return send(503, errorBody(503, "The model is overloaded. Please try again later."));
      }
    }

    const base = {
      modelVersion: model,
      responseId: createHash("sha1").update(prompt).digest("hex").slice(0, 20),
    };
    const blockReason = directive(prompt, "block");
    if (blockReason !== undefined) {
      return answer(200, {
        promptFeedback: { blockReason: blockReason || "SAFETY" },
        usageMetadata: usage(prompt, {}, images),
        ...base,
      });
    }

    const finishReason = directive(prompt, "finish");
    if (finishReason !== undefined) {
      return answer(200, {
        candidates: [{ content: { role: "model", parts: [] }, finishReason: finishReason || "IMAGE_SAFETY", index: 0 }],
        usageMetadata: usage(prompt, {}, images),
        ...base,
      });
    }

    const wantsImage = body.generationConfig?.responseModalities?.includes("IMAGE") ?? false;
    const reply = script?.text ?? directive(prompt, "reply");
    const text = reply ?? `A rendering of: ${prompt.slice(0, 200)}`;
    const parts: object[] = [{ text }];
    const withImage = wantsImage && directive(prompt, "text-only") === undefined;
    if (withImage) {
      const [width, height] = SIZES[body.generationConfig?.imageConfig?.aspectRatio ?? "1:1"] ?? [1024, 1024];
      // The references' contents tint the picture too: another image under the same alias gives another picture.
      const seed = createHash("sha256")
        .update([prompt, ...images.map((image) => image.sha256)].join("\n"))
        .digest()
        .readUInt32BE(0);
      const cacheKey = `${width}x${height}:${seed}`;
      let data = pngCache.get(cacheKey);
      if (!data) {
        data = encodePng(width, height, seed).toString("base64");
        if (pngCache.size < 64) pngCache.set(cacheKey, data);
      }
      parts.push({ inlineData: { mimeType: "image/png", data } });
    }
    return answer(200, {
      candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
      usageMetadata: usage(prompt, { text, image: withImage }, images),
      ...base,
    });
  });

  return {
    ...(await listenOnLoopback(server, options.port)),
    requests,
  };
}
