import { describe, expect, it } from "vitest";
import { displayPrefix, generateApiKey, hashApiKey, parseApiKey } from "../src/domain/api-key";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("API key format", () => {
  it("is bnt_, the type, 43 random base62 characters (256 bits) and a 6-character checksum", async () => {
    const master = await generateApiKey("master");
    const project = await generateApiKey("project");

    expect(master.plaintext).toMatch(/^bnt_mk_[0-9A-Za-z]{49}$/);
    expect(project.plaintext).toMatch(/^bnt_pk_[0-9A-Za-z]{49}$/);
    expect(parseApiKey(master.plaintext)).toEqual({ ok: true, type: "master", key: master.plaintext });
    expect(parseApiKey(project.plaintext)).toEqual({ ok: true, type: "project", key: project.plaintext });
  });

  it("does not repeat in 200 keys, and spreads characters evenly", async () => {
    const keys = await Promise.all(Array.from({ length: 200 }, () => generateApiKey("project")));
    expect(new Set(keys.map((key) => key.plaintext)).size).toBe(200);

    const counts = new Map<string, number>();
    for (const { plaintext } of keys) for (const char of plaintext.slice(7, 50)) counts.set(char, (counts.get(char) ?? 0) + 1);
    // 8600 characters over 62 symbols: about 139 each; a biased generator would leave some far off.
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(count).toBeGreaterThan(70);
  });

  it("stores only a SHA-256 hex hash and a short prefix that does not reveal the secret", async () => {
    const key = await generateApiKey("project");
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.hash).toBe(await hashApiKey(key.plaintext));
    expect(key.displayPrefix).toBe(key.plaintext.slice(0, 13));
    expect(displayPrefix(key.plaintext)).toBe(key.displayPrefix);
  });

  it("rejects every single-character typo by its checksum, without a lookup", async () => {
    const { plaintext } = await generateApiKey("project");
    for (let position = 7; position < plaintext.length; position++) {
      const original = plaintext[position] as string;
      const replacement = BASE62[(BASE62.indexOf(original) + 1) % 62] as string;
      const typo = plaintext.slice(0, position) + replacement + plaintext.slice(position + 1);
      expect(parseApiKey(typo), `typo at ${position}`).toEqual({ ok: false, reason: "checksum" });
    }
    // Swapping two neighbours is the other common typo.
    const swapped = `${plaintext.slice(0, 10)}${plaintext[11]}${plaintext[10]}${plaintext.slice(12)}`;
    if (swapped !== plaintext) expect(parseApiKey(swapped)).toEqual({ ok: false, reason: "checksum" });
  });

  it("rejects keys of the wrong shape", async () => {
    const { plaintext } = await generateApiKey("master");
    for (const bad of [
      "",
      "bnt_",
      "sk_live_abc",
      plaintext.slice(0, -1),
      `${plaintext}x`,
      plaintext.replace("bnt_mk_", "bnt_xx_"),
      ` ${plaintext}`,
      "x".repeat(10_000),
    ]) {
      expect(parseApiKey(bad), bad.slice(0, 20)).toEqual({ ok: false, reason: "format" });
    }
    // A project key relabelled as master fails its checksum: the type is covered by it.
    expect(parseApiKey(plaintext.replace("bnt_mk_", "bnt_pk_"))).toEqual({ ok: false, reason: "checksum" });
  });
});
