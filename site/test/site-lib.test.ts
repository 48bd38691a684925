import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { missingPython, skipIfMissing } from "../../dev/test/support/requirements.ts";
import { aspectRatio, formatBytes } from "../src/lib/format.ts";
import { checkFile, checkPixels } from "../src/lib/image-file.ts";
import { type Page, pagedList } from "../src/lib/paged-list.ts";
import { ApiError, retryAfterSeconds, retryText } from "../src/lib/problem.ts";
import { jsonPostSnippets, pythonLiteral, uploadSnippets } from "../src/lib/snippets.ts";

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

  it("names the upload's file and fields in every language", () => {
    const snippets = uploadSnippets("https://banatie.example/api/upload", "my photo's.png", { filename: "Banner" });
    expect(snippets.curl).toContain(`-F 'file=@my photo'"'"'s.png'`);
    expect(snippets.curl).toContain(`-F 'filename=Banner'`);
    expect(snippets.javascript).toContain(`form.append("filename", "Banner");`);
    expect(snippets.python).toContain(`data={"filename": "Banner"}`);
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
