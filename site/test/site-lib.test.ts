import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { aspectRatio, formatBytes } from "../src/lib/format.ts";
import { checkFile, checkPixels } from "../src/lib/image-file.ts";
import { jsonPostSnippets, pythonLiteral, uploadSnippets } from "../src/lib/snippets.ts";

const run = promisify(execFile);
/** Whether python3 can run the Python snippets' literals here (it is not a dependency of the project). */
const hasPython = await run("python3", ["-c", "pass"]).then(
  () => true,
  () => false,
);

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
    expect(`${curl}${javascript}${python}`).not.toMatch(/bnt_[mp]k_[A-Za-z0-9]{10}/);
  });

  it.skipIf(!hasPython)("writes Python literals that Python reads back as the same JSON", async () => {
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
    expect(checkPixels({ width: 4096, height: 4096, ratio: "1:1" }, 4096 * 4096)).toEqual([]);
  });

  it("refuses other types, empty and oversized files, and too many pixels, saying why", () => {
    expect(checkFile(new File(["<svg/>"], "a.svg", { type: "image/svg+xml" }), limits)[0]).toContain(
      "image/svg+xml is not accepted",
    );
    expect(checkFile(new File([], "a.png", { type: "image/png" }), limits)).toEqual(["The file is empty."]);
    const big = new File([new Uint8Array(limits.maxUploadBytes + 1)], "a.png", { type: "image/png" });
    expect(checkFile(big, limits)[0]).toContain("the limit is 5242880 bytes");
    expect(checkPixels({ width: 4097, height: 4096, ratio: "4097:4096" }, 4096 * 4096)[0]).toContain("pixels");
  });
});
