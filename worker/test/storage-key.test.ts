import { describe, expect, it } from "vitest";
import { sanitizeFilename, storageKey } from "../src/images/storage-key";
import { loggableKey } from "../src/storage/abandoned-write";

describe("filenames in storage keys", () => {
  it.each([
    ["Summer Sale Banner", "summer-sale-banner"],
    ["Été à Paris", "ete-a-paris"],
    ["Закат над морем!", "zakat-nad-morem"],
    ["../../etc/passwd", "etc-passwd"],
    ["..\\windows\\system32", "windows-system32"],
    ["name.with.dots", "name-with-dots"],
    ["a\u0000b", "a-b"],
    ["  __--x--__  ", "x"],
    ["<script>alert(1)</script>", "script-alert-1-script"],
  ])("%j becomes %j", (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it("gives up on names with nothing usable, and caps long ones", () => {
    expect(sanitizeFilename("一只猫")).toBeNull();
    expect(sanitizeFilename("!!!")).toBeNull();
    expect(sanitizeFilename("x".repeat(500))).toHaveLength(60);
  });

  it("builds {org}/{project}/{category}/{name} with a unique part in every name", () => {
    const id = "0b6c8f0e-7f57-4a55-9a1c-5f0f3d9b1c2a";
    const parts = { organizationSlug: "acme", projectSlug: "shop", category: "generated" as const, id, extension: "png" };
    expect(storageKey({ ...parts, filename: "banner" })).toBe("acme/shop/generated/banner-0b6c8f0e7f574a55.png");
    expect(storageKey({ ...parts, filename: null })).toBe(`acme/shop/generated/${id}.png`);
  });

  it("leaves the user's filename out of a key that a log line shows, keeping the server's id", () => {
    const id = "0b6c8f0e-7f57-4a55-9a1c-5f0f3d9b1c2a";
    const parts = { organizationSlug: "acme", projectSlug: "shop", category: "generated" as const, id, extension: "png" };
    expect(loggableKey(storageKey({ ...parts, filename: "my-secret-launch" }))).toBe(
      "acme/shop/generated/…-0b6c8f0e7f574a55.png",
    );
    expect(loggableKey(storageKey({ ...parts, filename: null }))).toBe(`acme/shop/generated/${id}.png`);
  });
});
