import { describe, expect, it } from "vitest";
import { detectLanguage } from "../src/providers/preview/language";

describe("language detection of prompts", () => {
  it.each([
    ["a red bicycle", "en"],
    ["a cat on a roof", "en"],
    ["sunset over the sea", "en"],
    ["portrait of an old man with a hat", "en"],
    ["кот на крыше", "ru"],
    ["Красивый закат над морем", "ru"],
    ["perro en la playa", "es"],
    ["un chat noir sur le toit", "fr"],
    ["ein Hund im Park", "de"],
    ["一只猫在屋顶上", "zh"],
    ["猫が屋根の上にいる", "ja"],
    ["قطة على السطح", "ar"],
  ])("%s is %s", (prompt, language) => {
    expect(detectLanguage(prompt)).toBe(language);
  });

  it("says nothing rather than guess from nothing", () => {
    expect(detectLanguage("")).toBeNull();
    expect(detectLanguage("1234 !!")).toBeNull();
  });
});
