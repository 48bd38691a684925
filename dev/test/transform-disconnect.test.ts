import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../stack/index.ts";
import { freePort } from "../stack/ports.ts";
import { startWranglerDev, type WranglerDev, writeEnvFile } from "../stack/wrangler.ts";
import { tempDir } from "./support/temp-dir.ts";

/**
 * The isolate's one-at-a-time transformation slot, against real client disconnects. Inside the
 * test pool an aborted fetch never cancels the Worker's request, so this runs `wrangler dev`,
 * where a client that hangs up makes workerd drop the request mid-transformation without running
 * its `finally` blocks: a slot held by a plain flag stayed taken, and every later transformation
 * of the isolate answered 503 TRANSFORM_BUSY.
 */

let dir: Awaited<ReturnType<typeof tempDir>>;
let stack: Stack;
let worker: WranglerDev;
let imagePath: string;

/** A photo-like 2000x2000 JPEG: big enough that decoding and resizing take a while. */
async function photoJpeg(size: number): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (Math.sin(i / 7000) * 100 + 128 + ((i * 7919) % 23)) & 255;
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { data: T }).data;
}

beforeAll(async () => {
  dir = await tempDir("disconnect");
  stack = await startStack({ dataDir: dir.path, ports: { postgres: 0, wsProxy: 0, s3: 0 }, persistent: false });
  const envFile = path.join(dir.path, "worker.vars");
  // Development bootstraps without a token; the edge cache is off so every request transforms.
  await writeEnvFile(envFile, {
    ...stack.workerVars,
    ENVIRONMENT: "development",
    IMAGE_EDGE_CACHE: "off",
    TRANSFORM_SIGNATURES: "optional",
  });
  const assets = path.join(dir.path, "assets");
  await mkdir(assets);
  worker = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    envFiles: [envFile],
    persistTo: path.join(dir.path, "wrangler"),
    output: "ignore",
    assetsDir: assets,
  });
  const master = await json<{ apiKey: string }>(await fetch(`${worker.url}/api/bootstrap/initial-key`, { method: "POST" }));
  const project = await json<{ apiKey: string }>(
    await fetch(`${worker.url}/api/admin/keys`, {
      method: "POST",
      headers: { "X-API-Key": master.apiKey, "Content-Type": "application/json" },
      body: JSON.stringify({ type: "project", name: "disconnect", projectSlug: "disconnect" }),
    }),
  );
  const form = new FormData();
  form.append("file", new File([new Uint8Array(await photoJpeg(2000))], "photo.jpg", { type: "image/jpeg" }));
  const upload = await json<{ url: string }>(
    await fetch(`${worker.url}/api/upload`, { method: "POST", headers: { "X-API-Key": project.apiKey }, body: form }),
  );
  imagePath = new URL(upload.url).pathname;
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
  await dir?.remove();
});

describe("transformations after clients hang up", () => {
  it("still transform once requests were dropped mid-transformation", async () => {
    // Hang up at delays spread over a transformation's length, so some land inside its work.
    const hungUp: string[] = [];
    for (let round = 0; round < 4; round++) {
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          fetch(`${worker.url}${imagePath}?w=${300 + (i % 4)}&h=${200 + round}&format=webp`, {
            signal: AbortSignal.timeout(50 + round * 120 + i * 10),
          })
            // The deadline can fire while the body is read: that is a hang-up too.
            .then(async (response) => `answered ${response.status}${await response.arrayBuffer().then(() => "")}`)
            .catch(() => "hung up"),
        ),
      );
      hungUp.push(...outcomes);
    }
    expect(hungUp).toContain("hung up");

    // Dropped requests may hold the slot and the waiting places until their leases lapse (a few
    // seconds); after that the isolate must transform again, as a client retrying on 503 sees.
    const deadline = Date.now() + 30_000;
    let after: Response;
    for (;;) {
      after = await fetch(`${worker.url}${imagePath}?w=300&h=200&format=webp`);
      if (after.status !== 503 || Date.now() > deadline) break;
      await after.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, Number(after.headers.get("Retry-After") ?? 1) * 1000));
    }
    const body = await after.text();
    expect(after.status, body.slice(0, 300)).toBe(200);
    expect(after.headers.get("Content-Type")).toBe("image/webp");
  }, 90_000);
});
