/**
 * The first hour of a deployment, as a newcomer lives it: is it up, what does it offer, who am I,
 * one image generated, served (through the CDN host when the API hands out its URLs), a preset of
 * it, the listing, and the delete, after which the URL answers 404. Each step says what it checked.
 */

export interface SmokeOptions {
  /** Origin of the API, e.g. https://api.example.com. */
  baseUrl: string;
  /** A project key; it is sent in a header and never printed. */
  key: string;
  /** Origin of the image CDN host; when given, image URLs must be on it. */
  cdnUrl?: string;
  /** Per request; a generation may take most of a minute. */
  timeoutMs?: number;
}

export interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
  /** What was found, or why the step failed. */
  detail: string;
}

class StepFailure extends Error {}

function check(condition: unknown, why: string): asserts condition {
  if (!condition) throw new StepFailure(why);
}

const IMAGE_SIGNATURES: Record<string, (bytes: Uint8Array) => boolean> = {
  "image/png": (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47,
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/webp": (b) => String.fromCharCode(...b.slice(0, 4)) === "RIFF" && String.fromCharCode(...b.slice(8, 12)) === "WEBP",
};

/** The bytes are the image the Content-Type names. */
function checkImage(response: Response, bytes: Uint8Array): string {
  const type = response.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  const matches = IMAGE_SIGNATURES[type];
  check(matches, `Content-Type is "${type}", not an image type the API serves`);
  check(bytes.length > 0 && matches(bytes), `the body (${bytes.length} bytes) is not a ${type} image`);
  return type;
}

/** Runs the journey, reporting each step as it ends; resolves with every step's result. */
export async function runSmoke(options: SmokeOptions, report: (step: StepResult) => void): Promise<StepResult[]> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const cdn = options.cdnUrl?.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 120_000;
  const results: StepResult[] = [];
  // A key in an error (an echoed header, a URL) must never reach the output.
  const redact = (text: string) => text.replaceAll(options.key, "[key]");

  async function call(url: string, init: RequestInit & { keyed?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.keyed) headers.set("X-API-Key", options.key);
    if (init.body) headers.set("Content-Type", "application/json");
    return fetch(url, { ...init, headers, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  }

  async function json<T>(response: Response, expected: number, what: string): Promise<T> {
    const text = await response.text();
    check(response.status === expected, `${what} answered ${response.status}, expected ${expected}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new StepFailure(`${what} answered ${response.status} with a body that is not JSON`);
    }
  }

  /** Runs one step; false when it failed, so that the steps needing it are skipped. */
  async function step(name: string, run: () => Promise<string>): Promise<boolean> {
    const started = performance.now();
    let result: StepResult;
    try {
      result = { name, ok: true, ms: 0, detail: await run() };
    } catch (error) {
      const why = error instanceof StepFailure ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      result = { name, ok: false, ms: 0, detail: why };
    }
    result.ms = Math.round(performance.now() - started);
    result.detail = redact(result.detail);
    results.push(result);
    report(result);
    return result.ok;
  }

  function skip(name: string, why: string) {
    const result = { name, ok: false, ms: 0, detail: `skipped: ${why}` };
    results.push(result);
    report(result);
  }

  await step("health", async () => {
    const body = await json<{ status?: string; version?: string }>(await call(`${base}/health`), 200, "GET /health");
    check(body.status === "ok", `status is "${body.status}", expected "ok"`);
    return `up, version ${body.version}`;
  });

  await step("info", async () => {
    const body = await json<{ data?: { name?: string; version?: string } }>(await call(`${base}/api/info`), 200, "GET /api/info");
    check(body.data?.name, "no name in the platform information");
    return `${body.data.name} ${body.data.version ?? ""}`.trim();
  });

  const identified = await step("me", async () => {
    const body = await json<{ data?: { type?: string; prefix?: string; project?: { slug?: string } | null } }>(
      await call(`${base}/api/me`, { keyed: true }),
      200,
      "GET /api/me",
    );
    check(body.data?.type === "project" && body.data.project?.slug, "the key is not a project key");
    return `project key ${body.data.prefix}… of project ${body.data.project.slug}`;
  });

  let image: { id: string; url: string } | undefined;
  if (identified) {
    await step("generate", async () => {
      const body = await json<{ data?: { imageId?: string; url?: string; provider?: string } }>(
        await call(`${base}/api/text-to-image`, {
          method: "POST",
          keyed: true,
          body: JSON.stringify({ prompt: "Smoke test: a lighthouse on a rocky coast at dusk", autoEnhance: false }),
        }),
        201,
        "POST /api/text-to-image",
      );
      check(body.data?.imageId && body.data.url, "no image id or URL in the answer");
      image = { id: body.data.imageId, url: body.data.url };
      return `image ${image.id} by ${body.data.provider}`;
    });
  } else skip("generate", "the key could not be checked");

  let original: { bytes: number; etag: string } | undefined;
  if (image) {
    const { url } = image;
    await step("image URL", async () => {
      if (cdn) check(url.startsWith(`${cdn}/`), `the API returned ${url}, not a URL on the CDN host ${cdn}`);
      const response = await call(url);
      const bytes = new Uint8Array(await response.arrayBuffer());
      check(response.status === 200, `GET ${url} answered ${response.status}`);
      const type = checkImage(response, bytes);
      const cacheControl = response.headers.get("cache-control") ?? "";
      check(/\bpublic\b/.test(cacheControl) && /\bmax-age=\d+/.test(cacheControl), `Cache-Control is "${cacheControl}"`);
      const etag = response.headers.get("etag");
      check(etag, "no ETag");
      const revalidated = await call(url, { headers: { "If-None-Match": etag } });
      await revalidated.body?.cancel();
      check(revalidated.status === 304, `a conditional GET answered ${revalidated.status}, expected 304`);
      original = { bytes: bytes.length, etag };
      return `${url}: ${type}, ${bytes.length} bytes, ${cacheControl}, 304 on revalidation`;
    });
  } else skip("image URL", "no image was generated");

  if (image && original) {
    const { url } = image;
    const full = original;
    await step("preset", async () => {
      const variant = `${url}?preset=thumbnail`;
      const response = await call(variant);
      const bytes = new Uint8Array(await response.arrayBuffer());
      check(response.status === 200, `GET ${variant} answered ${response.status}`);
      const type = checkImage(response, bytes);
      check(bytes.length < full.bytes, `the thumbnail (${bytes.length} bytes) is not smaller than the image (${full.bytes})`);
      return `thumbnail: ${type}, ${bytes.length} bytes`;
    });
  } else skip("preset", "the image could not be served");

  if (image) {
    const { id } = image;
    await step("listing", async () => {
      const body = await json<{ data?: { id?: string }[] }>(
        await call(`${base}/api/images/generated?limit=20`, { keyed: true }),
        200,
        "GET /api/images/generated",
      );
      const items = body.data ?? [];
      check(
        items.some((item) => item.id === id),
        "the new image is not in the newest 20 generated images",
      );
      return `${items.length} image(s), the new one among them`;
    });

    // Always attempted once an image exists, so a failed run leaves nothing behind.
    await step("delete", async () => {
      const deleted = await call(`${base}/api/images/${id}`, { method: "DELETE", keyed: true });
      await json(deleted, 200, `DELETE /api/images/${id}`);
      const gone = await call(image?.url ?? "");
      await gone.body?.cancel();
      check(gone.status === 404, `after the delete its URL answered ${gone.status}, expected 404`);
      return "deleted; its URL answers 404";
    });
  } else {
    skip("listing", "no image was generated");
    skip("delete", "no image was generated");
  }
  return results;
}
