import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { missingPython, skipIfMissing } from "../../dev/test/support/requirements.ts";
import { cancelOutcomeText, isEnded, nextPollDelay, POLL_DELAY } from "../src/lib/async-generation.ts";
import { aspectRatio, formatBytes } from "../src/lib/format.ts";
import { checkFile, checkPixels } from "../src/lib/image-file.ts";
import { budgetProblemText, costText, formatUsdMicros, imagePriceText, quoteText, usdToMicros } from "../src/lib/money.ts";
import { type Page, pagedList } from "../src/lib/paged-list.ts";
import { ApiError, retryAfterSeconds, retryText } from "../src/lib/problem.ts";
import { addReference, type PickedReference, referenceCount, removeReference } from "../src/lib/reference-picker.ts";
import { jsonPostSnippets, pythonLiteral, uploadSnippets } from "../src/lib/snippets.ts";
import {
  budgetGauge,
  csvFileName,
  dailySeries,
  daysBetween,
  elapsedDays,
  monthRange,
  topShares,
  totalOf,
  type UsagePage,
} from "../src/lib/usage.ts";
import { chartLayout, niceCeiling } from "../src/lib/usage-chart.ts";
import { deliveryResponseText, secretStateText } from "../src/lib/webhooks.ts";

const run = promisify(execFile);

// Prompts people write: quotes of both kinds, a backslash, a dollar sign, non-Latin text, a newline.
const awkward = { prompt: `it's a "quoted" \\ $HOME кот\nsecond line`, autoEnhance: false, quality: 80, template: null };

describe("generated snippets survive awkward input", () => {
  it("quotes the JSON body for the shell so that curl sends it byte for byte", async () => {
    const curl = jsonPostSnippets("http://127.0.0.1:1/api/text-to-image", awkward).curl;
    const body = curl.split("-d ")[1]!;
    const { stdout } = await run("bash", ["-c", `printf %s ${body}`]);
    expect(JSON.parse(stdout)).toEqual(awkward);
  });

  it("writes the key header and URL the API expects, with the key only from the environment", () => {
    const { curl, javascript, python } = jsonPostSnippets("https://banatie.example/api/text-to-image", { prompt: "x" });
    expect(curl).toContain(`curl -sS -X POST 'https://banatie.example/api/text-to-image'`);
    expect(curl).toContain(`-H "X-API-Key: $BANATIE_API_KEY"`);
    expect(javascript).toContain(`"X-API-Key": process.env.BANATIE_API_KEY`);
    expect(python).toContain(`headers={"X-API-Key": os.environ["BANATIE_API_KEY"]}`);
  });

  it("writes Python literals that Python reads back as the same JSON", async (context) => {
    skipIfMissing(context, await missingPython());
    const literal = pythonLiteral({ ...awkward, nested: { list: [1, true, null, "a"] }, empty: {} });
    const { stdout } = await run("python3", ["-c", `import json\nprint(json.dumps(${literal}))`]);
    expect(JSON.parse(stdout)).toEqual({ ...awkward, nested: { list: [1, true, null, "a"] }, empty: {} });
  });

  it("prints the image URL from where the answer keeps it: a v1 generation's outputImage", async (context) => {
    const { javascript, python } = jsonPostSnippets(
      "https://banatie.example/api/v1/generations",
      { prompt: "x" },
      "outputImage.url",
    );
    expect(javascript).toContain("console.log(result.data.outputImage.url);");
    skipIfMissing(context, await missingPython());
    // The snippet's own last lines, run on a v1 answer.
    const printing = python.slice(python.indexOf("result = response.json()"));
    const answer = { data: { url: "https://wrong.example/", outputImage: { url: "https://banatie.example/img.png" } } };
    const script = `import json\nclass Response:\n    ok = True\n    def json(self):\n        return json.loads(${JSON.stringify(JSON.stringify(answer))})\nresponse = Response()\n${printing}`;
    const { stdout } = await run("python3", ["-c", script]);
    expect(stdout.trim()).toBe("https://banatie.example/img.png");
  });

  it("names the upload's file and fields in every language", () => {
    const snippets = uploadSnippets("https://banatie.example/api/upload", "my photo's.png", { filename: "Banner" });
    expect(snippets.curl).toContain(`-F 'file=@my photo'"'"'s.png'`);
    expect(snippets.curl).toContain(`-F 'filename=Banner'`);
    expect(snippets.javascript).toContain(`form.append("filename", "Banner");`);
    expect(snippets.python).toContain(`data={"filename": "Banner"}`);
  });
});

/**
 * A stand-in for POST /api/v1/generations with `Prefer: respond-async`: 202 with a relative
 * Location, then the generation pending, processing and succeeded on each read of it. Records
 * the Prefer header and the key each request carried.
 */
async function queuedGenerationServer() {
  const statuses = ["pending", "processing", "success"];
  const seen: { method: string; url: string; prefer: string | undefined; key: string | undefined }[] = [];
  let reads = 0;
  const server = createServer((request, response) => {
    seen.push({
      method: request.method ?? "",
      url: request.url ?? "",
      prefer: request.headers.prefer as string | undefined,
      key: request.headers["x-api-key"] as string | undefined,
    });
    request.resume();
    request.on("end", () => {
      const status = request.method === "POST" ? "pending" : statuses[Math.min(++reads, 2)];
      const data = { id: "g1", status, outputImage: status === "success" ? { url: "https://banatie.example/g1.png" } : null };
      const headers = {
        "Content-Type": "application/json",
        ...(request.method === "POST" ? { Location: "/api/v1/generations/g1" } : {}),
      };
      response.writeHead(request.method === "POST" ? 202 : 200, headers).end(JSON.stringify({ success: true, data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/generations`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("asynchronous generations in the workbench", () => {
  it("sends Prefer: respond-async in every language, and the JavaScript follows Location to the image", async () => {
    const server = await queuedGenerationServer();
    const dir = await mkdtemp(path.join(tmpdir(), "banatie-async-"));
    try {
      const { curl, javascript } = jsonPostSnippets(server.url, { prompt: "x" }, "outputImage.url", true);
      expect(curl).toContain(`-H "Prefer: respond-async"`);
      await writeFile(path.join(dir, "snippet.mjs"), javascript);
      const { stdout } = await run(process.execPath, [path.join(dir, "snippet.mjs")], {
        env: { ...process.env, BANATIE_API_KEY: "bnt_pk_test" },
        timeout: 20_000,
      });
      expect(stdout.trim()).toBe("https://banatie.example/g1.png");
      expect(server.seen).toEqual([
        { method: "POST", url: "/api/v1/generations", prefer: "respond-async", key: "bnt_pk_test" },
        { method: "GET", url: "/api/v1/generations/g1", prefer: undefined, key: "bnt_pk_test" },
        { method: "GET", url: "/api/v1/generations/g1", prefer: undefined, key: "bnt_pk_test" },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await server.close();
    }
  });

  it("follows Location to the image in Python too", async (context) => {
    skipIfMissing(context, await missingPython());
    const server = await queuedGenerationServer();
    try {
      const { python } = jsonPostSnippets(server.url, { prompt: "x" }, "outputImage.url", true);
      const { stdout } = await run("python3", ["-c", python], {
        env: { ...process.env, BANATIE_API_KEY: "bnt_pk_test" },
        timeout: 20_000,
      });
      expect(stdout.trim()).toBe("https://banatie.example/g1.png");
      expect(server.seen.map((request) => [request.method, request.prefer])).toEqual([
        ["POST", "respond-async"],
        ["GET", undefined],
        ["GET", undefined],
      ]);
    } finally {
      await server.close();
    }
  });

  it("leaves Prefer out of the snippets of a synchronous call", () => {
    const snippets = jsonPostSnippets("https://banatie.example/api/v1/generations", { prompt: "x" }, "outputImage.url");
    for (const snippet of Object.values(snippets)) expect(snippet).not.toContain("respond-async");
  });

  it("reads a queued generation less and less often, up to a ceiling, until it ends", () => {
    const delays = Array.from({ length: 12 }, (_, attempt) => nextPollDelay(attempt));
    expect(delays[0]).toBe(POLL_DELAY.firstMs);
    for (let index = 1; index < delays.length; index++) expect(delays[index]).toBeGreaterThanOrEqual(delays[index - 1]!);
    expect(delays.at(-1)).toBe(POLL_DELAY.maxMs);
    expect(["pending", "processing", "success", "failed"].filter((status) => isEnded(status as never))).toEqual([
      "success",
      "failed",
    ]);
  });

  it("says what each answer to a cancel means", () => {
    expect(cancelOutcomeText(200)).toContain("refunded");
    expect(cancelOutcomeText(202)).toContain("discarded");
  });
});

describe("the webhooks page", () => {
  const now = Date.parse("2026-12-02T12:00:00Z");

  it("says whether a secret exists and whether the previous one still signs", () => {
    expect(secretStateText({ exists: false, createdAt: null, previousExpiresAt: null }, now)).toContain("No signing secret yet");
    const rotating = secretStateText(
      { exists: true, createdAt: "2026-12-02T11:00:00Z", previousExpiresAt: "2026-12-03T11:00:00Z" },
      now,
    );
    expect(rotating).toContain("The previous secret still signs too, until");
    const settled = secretStateText(
      { exists: true, createdAt: "2026-12-01T11:00:00Z", previousExpiresAt: "2026-12-02T11:00:00Z" },
      now,
    );
    expect(settled).toContain("No previous secret signs any more.");
  });

  it("words a delivery's last answer: status and latency, the failure, or nothing yet", () => {
    expect(deliveryResponseText({ responseStatus: 204, latencyMs: 12, error: null })).toBe("HTTP 204 in 12 ms");
    expect(deliveryResponseText({ responseStatus: null, latencyMs: 15_000, error: "timeout" })).toBe("no answer (timeout)");
    expect(deliveryResponseText({ responseStatus: null, latencyMs: null, error: null })).toBe("not sent yet");
  });
});

describe("formatting", () => {
  it("reduces sizes to their simplest ratio, and shows others as decimals", () => {
    expect(aspectRatio(1344, 768)).toBe("7:4");
    expect(aspectRatio(1920, 1080)).toBe("16:9");
    expect(aspectRatio(320, 200)).toBe("8:5");
    expect(aspectRatio(1001, 500)).toBe("2.00:1");
  });

  it("shows bytes in binary units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(8_806)).toBe("8.6 KB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.00 MB");
  });
});

describe("checks before an upload", () => {
  const limits = { maxUploadBytes: 5 * 1024 * 1024, types: ["image/png", "image/jpeg", "image/webp"] };

  it("accepts what the API accepts", () => {
    expect(checkFile(new File([new Uint8Array(10)], "a.png", { type: "image/png" }), limits)).toEqual([]);
    expect(checkPixels({ width: 4096, height: 2048, ratio: "2:1" }, 4096 * 2048)).toEqual([]);
  });

  it("refuses other types, empty and oversized files, and too many pixels, saying why", () => {
    expect(checkFile(new File(["<svg/>"], "a.svg", { type: "image/svg+xml" }), limits)[0]).toContain(
      "image/svg+xml is not accepted",
    );
    expect(checkFile(new File([], "a.png", { type: "image/png" }), limits)).toEqual(["The file is empty."]);
    const big = new File([new Uint8Array(limits.maxUploadBytes + 1)], "a.png", { type: "image/png" });
    expect(checkFile(big, limits)[0]).toContain("the limit is 5242880 bytes");
    expect(checkPixels({ width: 4096, height: 4096, ratio: "1:1" }, 4096 * 2048)).toEqual([
      "The image has 16.8 megapixels (4096×4096); the limit is 8.4 megapixels (8388608 pixels).",
    ]);
  });
});

describe("problems say when to retry", () => {
  const limited = (retryAfter: string | null) =>
    new ApiError(
      429,
      { title: "Too many requests at once", code: "TOO_MANY_REQUESTS" },
      {},
      new Headers(retryAfter === null ? {} : { "Retry-After": retryAfter }),
    );

  it("reads Retry-After as seconds or as a date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterSeconds("30", now)).toBe(30);
    expect(retryAfterSeconds("Wed, 01 Jan 2025 00:01:00 GMT", now)).toBe(60);
    expect(retryAfterSeconds("Tue, 31 Dec 2024 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds("soon", now)).toBeNull();
  });

  it("renders the wait from the response headers, and nothing without them", () => {
    expect(retryText(limited("12"))).toBe("Retry in 12 s.");
    expect(retryText(limited(null))).toBeNull();
    expect(retryText(new Error("not an API error"))).toBeNull();
  });
});

describe("paged lists", () => {
  /** A fake endpoint over `total` numbered items, `size` to a page, recording each call. */
  function endpoint(total: number, size: number) {
    const calls: { filters: string; cursor: string | null }[] = [];
    const pending: (() => void)[] = [];
    const fetchPage = (filters: string, cursor: string | null): Promise<Page<string>> => {
      calls.push({ filters, cursor });
      const start = cursor ? Number(cursor) : 0;
      const items = Array.from({ length: Math.min(size, total - start) }, (_, index) => `${filters}-${start + index}`);
      const nextCursor = start + size < total ? String(start + size) : null;
      return new Promise((resolve) => pending.push(() => resolve({ items, nextCursor })));
    };
    /** Answers the oldest call still waiting. */
    const answer = async () => {
      pending.shift()?.();
      await new Promise((resolve) => setTimeout(resolve));
    };
    return { calls, fetchPage, answer };
  }

  function appendingList(api: ReturnType<typeof endpoint>) {
    let rows: string[] = [];
    const list = pagedList<string, string>({
      fetchPage: api.fetchPage,
      show: ({ items, index }) => {
        rows = index === 0 ? items : [...rows, ...items];
      },
      fail: () => {},
    });
    return { list, rows: () => rows };
  }

  it("adds a page once however often “more” is asked while it loads", async () => {
    const api = endpoint(5, 2);
    const { list, rows } = appendingList(api);
    const first = list.start("a");
    await api.answer();
    await first;
    const more = [list.next(), list.next(), list.next()];
    await api.answer();
    expect((await Promise.all(more)).map((outcome) => outcome.state)).toEqual(["shown", "ignored", "ignored"]);
    expect(rows()).toEqual(["a-0", "a-1", "a-2", "a-3"]);
    expect(api.calls).toHaveLength(2);
  });

  it("fetches further pages with the filters that produced the cursor", async () => {
    const api = endpoint(5, 2);
    const { list } = appendingList(api);
    const first = list.start("a");
    await api.answer();
    await first;
    // The form now says "b", but "more" continues the list that is shown.
    const more = list.next();
    await api.answer();
    await more;
    expect(api.calls.at(-1)).toEqual({ filters: "a", cursor: "2" });
  });

  it("drops an older answer that lands after a newer refresh", async () => {
    const api = endpoint(5, 2);
    const { list, rows } = appendingList(api);
    const older = list.start("old");
    const newer = list.start("new");
    // Answers arrive in request order here, but only the newest load may draw.
    await api.answer();
    await api.answer();
    expect((await older).state).toBe("stale");
    expect((await newer).state).toBe("shown");
    expect(rows()).toEqual(["new-0", "new-1"]);
  });
});

describe("money", () => {
  it("shows USD micros exactly, in dollars", () => {
    expect(formatUsdMicros(39_000)).toBe("$0.039");
    expect(formatUsdMicros(38_703)).toBe("$0.038703");
    expect(formatUsdMicros(1)).toBe("$0.000001");
    expect(formatUsdMicros(0)).toBe("$0.00");
    expect(formatUsdMicros(2_500_000)).toBe("$2.50");
    expect(formatUsdMicros(1_234_567_890)).toBe("$1,234.56789");
  });

  it("reads the API's dollar amounts back as whole micros", () => {
    expect(usdToMicros(0.038703)).toBe(38_703);
    // 0.1 + 0.2 is 0.30000000000000004 in floating point: the micros are still whole.
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000);
  });

  it("words quotes as upper bounds, and says free when nothing is charged", () => {
    expect(quoteText({ usdMicros: 40_000, provider: "gemini" })).toBe("up to $0.04");
    expect(quoteText({ usdMicros: 0, provider: "preview" })).toBe("free (offline preview model)");
    expect(quoteText({ usdMicros: 0, provider: "gemini" })).toBe("free");
    expect(costText(0)).toBe("free");
    expect(costText(38_703)).toBe("$0.038703");
  });

  it("takes the price of an image from the API's pricing facts", () => {
    const pricing = {
      priceVersion: "2025-10-01",
      provider: "gemini" as const,
      inUse: { image: "gemini-2.5-flash-image", enhancement: "gemini-2.5-flash" },
      models: [],
      image: { model: "gemini-2.5-flash-image", outputTokens: 1290, usdMicros: 38_700 },
    };
    expect(imagePriceText(pricing)).toContain(
      "One image from gemini-2.5-flash-image costs $0.0387 (1290 output tokens, prices of 2025-10-01)",
    );
    expect(imagePriceText({ ...pricing, provider: "preview" })).toContain("images are free");
  });

  it("names the budget a 402 would cross, what is spent, the request's bound and the reset", () => {
    const text = budgetProblemText({
      scope: "key",
      monthlyBudgetUsd: 0.05,
      spentUsd: 0.038703,
      reservedUsd: 0,
      requestUpToUsd: 0.0412,
      resetAt: "2027-01-01T00:00:00.000Z",
    });
    expect(text).toMatch(
      /^The key's monthly budget is \$0\.05: \$0\.038703 spent; this request could cost up to \$0\.0412\. It resets .*2027/,
    );
  });
});

describe("usage", () => {
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;
  const result = (fields: { images: number; requests: number; usd: number; key?: string; project?: string }) => ({
    object: "organization.usage.result" as const,
    images: fields.images,
    requests: fields.requests,
    input_tokens: 0,
    output_tokens: 0,
    amount: { value: fields.usd, currency: "usd" as const },
    project_id: fields.project ?? null,
    api_key_id: fields.key ?? null,
    model: null,
  });
  const page = (buckets: [string, ReturnType<typeof result>[]][]): UsagePage => ({
    object: "page",
    data: buckets.map(([date, results]) => ({
      object: "bucket",
      start_time: day(date),
      end_time: day(date) + 86_400,
      results,
    })),
    has_more: false,
    next_page: null,
  });

  it("covers a month in whole UTC days, December into the next year", () => {
    expect(monthRange("2026-12")).toEqual({ from: "2026-12-01", to: "2027-01-01" });
    expect(monthRange("2028-02")).toEqual({ from: "2028-02-01", to: "2028-03-01" });
    expect(daysBetween("2028-02-01", "2028-03-01")).toHaveLength(29);
  });

  it("sums each day of the range, with zeros for days without usage", () => {
    const usage = page([
      [
        "2026-12-02",
        [result({ images: 2, requests: 3, usd: 0.077406, key: "a" }), result({ images: 1, requests: 1, usd: 0.0387, key: "b" })],
      ],
    ]);
    const series = dailySeries(usage, "2026-12-01", "2026-12-04");
    expect(series).toEqual([
      { day: "2026-12-01", images: 0, requests: 0, usdMicros: 0 },
      { day: "2026-12-02", images: 3, requests: 4, usdMicros: 116_106 },
      { day: "2026-12-03", images: 0, requests: 0, usdMicros: 0 },
    ]);
    expect(totalOf(series)).toEqual({ images: 3, requests: 4, usdMicros: 116_106 });
  });

  it("ranks keys and projects by what they spent over the days, then by images", () => {
    const usage = page([
      [
        "2026-12-01",
        [result({ images: 1, requests: 1, usd: 0.01, key: "small" }), result({ images: 5, requests: 5, usd: 0, key: "free" })],
      ],
      [
        "2026-12-02",
        [result({ images: 1, requests: 1, usd: 0.03, key: "big" }), result({ images: 1, requests: 1, usd: 0.01, key: "small" })],
      ],
    ]);
    expect(topShares(usage, "api_key_id").map((share) => [share.id, share.usdMicros, share.images])).toEqual([
      ["big", 30_000, 1],
      ["small", 20_000, 2],
      ["free", 0, 5],
    ]);
    expect(topShares(usage, "api_key_id", 1)).toHaveLength(1);
    // A page grouped otherwise has no project ids: no rows rather than a row for "null".
    expect(topShares(usage, "project_id")).toEqual([]);
  });

  it("measures a budget for a meter, with its text equivalent", () => {
    const gauge = budgetGauge({
      monthlyBudgetUsd: 1,
      spentUsd: 0.25,
      reservedUsd: 0.04,
      remainingUsd: 0.71,
      softThreshold: 0.8,
      thresholdReached: false,
      resetAt: "2027-01-01T00:00:00.000Z",
    });
    expect(gauge).toMatchObject({ limitMicros: 1_000_000, spentMicros: 250_000, percent: 25, warnAtMicros: 800_000 });
    expect(gauge.text).toMatch(/^\$0\.25 of \$1\.00 spent \(25%\), \$0\.04 held by running generations, \$0\.71 left; resets /);
    const over = budgetGauge({
      monthlyBudgetUsd: 0.05,
      spentUsd: 0.045,
      reservedUsd: 0,
      remainingUsd: 0.005,
      softThreshold: 0.8,
      thresholdReached: true,
      resetAt: "2027-01-01T00:00:00.000Z",
    });
    expect(over.text).toContain("(90%)");
    expect(over.text).toContain("Past the 80% warning threshold.");
  });

  it("saves the CSV under the API's file name, never a path", () => {
    expect(csvFileName('attachment; filename="usage-2026-12-01-2027-01-01.csv"', "a", "b")).toBe(
      "usage-2026-12-01-2027-01-01.csv",
    );
    expect(csvFileName('attachment; filename="../../etc/passwd"', "2026-12-01", "2027-01-01")).toBe(
      "usage-2026-12-01-2027-01-01.csv",
    );
    expect(csvFileName(null, "2026-12-01", "2027-01-01")).toBe("usage-2026-12-01-2027-01-01.csv");
  });
});

describe("the daily usage chart", () => {
  const series = [
    { day: "2026-12-01", images: 0, requests: 0, usdMicros: 0 },
    { day: "2026-12-02", images: 3, requests: 4, usdMicros: 116_106 },
    { day: "2026-12-03", images: 1, requests: 1, usdMicros: 38_703 },
  ];

  it("ends its axes on round values", () => {
    expect(niceCeiling(3, 1)).toBe(5);
    expect(niceCeiling(0, 1)).toBe(1);
    expect(niceCeiling(10, 1)).toBe(10);
    expect(niceCeiling(116_106, 10_000)).toBe(200_000);
    expect(niceCeiling(0, 10_000)).toBe(10_000);
  });

  it("draws a bar and a dot per day, in day order, scaled to the axes", () => {
    const layout = chartLayout(series);
    const bottom = layout.plot.y + layout.plot.height;
    expect(layout.bars.map((bar) => bar.day)).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
    expect(layout.bars[0]?.height).toBe(0);
    // 3 images on an axis ending at 5: three fifths of the plot's height.
    expect(layout.bars[1]?.height).toBeCloseTo((layout.plot.height * 3) / 5, 1);
    expect(layout.points[1]?.y).toBeCloseTo(bottom - (layout.plot.height * 116_106) / 200_000, 1);
    expect(layout.points.map((point) => point.x)).toEqual([...layout.points.map((point) => point.x)].sort((a, b) => a - b));
    expect(layout.imageTicks.map((tick) => tick.label)).toEqual(["0", "5"]);
    expect(layout.costTicks.map((tick) => tick.label)).toEqual(["$0.00", "$0.10", "$0.20"]);
    for (const bar of layout.bars) expect(bar.y + bar.height).toBeCloseTo(bottom, 1);
  });

  it("spans the whole month, drawing only the days so far", () => {
    const month = daysBetween("2026-12-01", "2027-01-01");
    const layout = chartLayout(elapsedDays(series, "2026-12-02"), month);
    expect(layout.bars.map((bar) => bar.day)).toEqual(["2026-12-01", "2026-12-02"]);
    expect(layout.dayLabels.at(-1)?.day).toBe("2026-12-29");
    // The second day sits in the second of 31 slots, not half way across as it would among 2.
    const slot = layout.plot.width / 31;
    expect(layout.points[1]?.x).toBeCloseTo(layout.plot.x + 1.5 * slot, 1);
  });

  it("labels a month's days without crowding them", () => {
    const month = daysBetween("2026-12-01", "2027-01-01").map((date) => ({ day: date, images: 0, requests: 0, usdMicros: 0 }));
    expect(chartLayout(month).dayLabels.map((label) => label.label)).toEqual(["1", "5", "9", "13", "17", "21", "25", "29"]);
  });
});

describe("the workbench's reference picker", () => {
  const image = (n: number): PickedReference => ({ id: `id-${n}`, url: `https://banatie.example/${n}.png`, label: `image ${n}` });

  it("adds references in the order chosen, up to the limit, and refuses one more with a message naming the limit", () => {
    let references: PickedReference[] = [];
    for (const n of [1, 2, 3]) {
      const outcome = addReference(references, image(n), 3);
      expect(outcome.added).toBe(true);
      references = outcome.references;
    }
    expect(references.map((reference) => reference.id)).toEqual(["id-1", "id-2", "id-3"]);
    const fourth = addReference(references, image(4), 3);
    expect(fourth).toMatchObject({ added: false, reason: "full" });
    expect(fourth.added ? "" : fourth.message).toBe("At most 3 references per generation: remove one before adding image 4.");
    expect(fourth.references).toEqual(references);
  });

  it("takes each image once, without changing the list it was given", () => {
    const references = [image(1)];
    const again = addReference(references, { ...image(1), label: "the same image" }, 3);
    expect(again).toMatchObject({ added: false, reason: "duplicate", references: [image(1)] });
    expect(references).toEqual([image(1)]);
  });

  it("removes one reference and keeps the order of the others, making room again", () => {
    const references = removeReference([image(1), image(2), image(3)], "id-2");
    expect(references.map((reference) => reference.id)).toEqual(["id-1", "id-3"]);
    expect(addReference(references, image(4), 3).added).toBe(true);
  });

  it("says how many references a result used", () => {
    expect([0, 1, 2].map(referenceCount)).toEqual(["No references", "1 reference", "2 references"]);
  });
});
