import { describe, expect, it } from "vitest";
import {
  aliasFromInput,
  downloadFileName,
  editImageHref,
  flowPageHref,
  idParameter,
  imagePageHref,
  oldestFirst,
} from "../src/lib/image-pages.ts";
import { presetUrl, thumbnailUrl } from "../src/lib/thumbnail.ts";

const ID = "9b2f4c7e-1d3a-4e5b-8c6d-7f8e9a0b1c2d";

describe("the image and flow pages' addresses", () => {
  it("links an image, a flow, one of its generations and an edit by id, escaped", () => {
    expect(imagePageHref(ID)).toBe(`/demo/image?id=${ID}`);
    expect(imagePageHref("@hero&x")).toBe("/demo/image?id=%40hero%26x");
    expect(flowPageHref(ID)).toBe(`/demo/flow?id=${ID}`);
    expect(flowPageHref(ID, "g1")).toBe(`/demo/flow?id=${ID}#generation-g1`);
    expect(editImageHref(ID)).toBe(`/demo/tti?edit=${ID}`);
  });

  it("reads the id a page was opened with, and nothing from an empty one", () => {
    expect(idParameter(`?id=${ID}`)).toBe(ID);
    expect(idParameter("?id=%40hero")).toBe("@hero");
    expect(idParameter("?id=%20%20")).toBeNull();
    expect(idParameter("")).toBeNull();
  });

  it("adds a preset to an image URL, keeping its other parameters", () => {
    expect(presetUrl("https://cdn.example/o/p/img/abc", "medium")).toBe("https://cdn.example/o/p/img/abc?preset=medium");
    expect(presetUrl("https://cdn.example/o/p/img/abc?preset=large&v=2", "small")).toBe(
      "https://cdn.example/o/p/img/abc?preset=small&v=2",
    );
    expect(thumbnailUrl("https://cdn.example/a.png")).toBe("https://cdn.example/a.png?preset=thumbnail");
  });
});

describe("what the visitor types as an alias", () => {
  it("is trimmed, gets the @ it was typed without, and is nothing when blank", () => {
    expect(aliasFromInput("  @hero ")).toBe("@hero");
    expect(aliasFromInput("hero")).toBe("@hero");
    // Whether it is valid is the API's to say (ALIAS_FORMAT_CHECK): a bad one is sent as typed.
    expect(aliasFromInput("bad alias!")).toBe("@bad alias!");
    expect(aliasFromInput("   ")).toBeNull();
  });
});

describe("the name a downloaded image is saved under", () => {
  it("is the file name of its URL, which the server made safe", () => {
    expect(downloadFileName("https://x.example/api/images/o/p/generated/lighthouse-0123abcd.webp", ID, "image/webp")).toBe(
      "lighthouse-0123abcd.webp",
    );
    expect(downloadFileName(`https://x.example/o/p/uploads/${ID}.png?preset=small`, ID, "image/png")).toBe(`${ID}.png`);
  });

  it("is the id with the type's extension when the URL has no file name", () => {
    expect(downloadFileName(`https://x.example/o/p/img/${ID}`, ID, "image/jpeg")).toBe(`${ID}.jpg`);
    expect(downloadFileName("https://x.example/o/p/img/%40hero", ID, "image/webp")).toBe(`${ID}.webp`);
    expect(downloadFileName("not a url", ID, "image/gif")).toBe(`${ID}.img`);
  });
});

describe("a flow's generations", () => {
  it("are put oldest first, those made at the same instant keeping their order", () => {
    const newestFirst = [
      { id: "c", createdAt: "2026-12-02T10:00:03.000Z" },
      { id: "b2", createdAt: "2026-12-02T10:00:02.000Z" },
      { id: "b1", createdAt: "2026-12-02T10:00:02.000Z" },
      { id: "a", createdAt: "2026-12-02T09:59:59.500Z" },
    ];
    expect(oldestFirst(newestFirst).map((item) => item.id)).toEqual(["a", "b2", "b1", "c"]);
    expect(newestFirst[0]?.id).toBe("c");
  });
});
