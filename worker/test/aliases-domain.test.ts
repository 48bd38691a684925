import { describe, expect, it } from "vitest";
import { aliasesInPrompt, checkAssignableAlias, parseReferenceSpec, technicalAlias } from "../src/domain/aliases";

describe("the alias grammar", () => {
  it("takes @ and 1-49 letters, digits, _ or -, case-sensitive", () => {
    for (const alias of ["@a", "@hero", "@Hero_2", "@brand-logo", `@${"x".repeat(49)}`]) {
      expect(checkAssignableAlias(alias, "alias")).toBeNull();
    }
    for (const alias of ["hero", "@", "@@hero", "@hé", "@hero logo", "@hero.png", `@${"x".repeat(50)}`, ""]) {
      expect(checkAssignableAlias(alias, "alias")).toMatchObject({
        field: "alias",
        message: expect.stringContaining("not an alias"),
      });
    }
  });

  it("reserves @last, @first and @upload in any letter case", () => {
    for (const alias of ["@last", "@first", "@upload", "@LAST", "@Upload"]) {
      expect(checkAssignableAlias(alias, "flowAlias")).toMatchObject({
        field: "flowAlias",
        message: expect.stringContaining("reserved"),
      });
    }
    expect(technicalAlias("@Last")).toBe("@last");
    expect(technicalAlias("@lastly")).toBeUndefined();
  });

  it("reads a reference as an image id or an alias, and nothing else", () => {
    const id = "9B2F4C7E-1D3A-4E5B-8C6D-7F8E9A0B1C2D";
    expect(parseReferenceSpec(id)).toEqual({ spec: id, id: id.toLowerCase() });
    expect(parseReferenceSpec("@hero")).toEqual({ spec: "@hero", alias: "@hero" });
    expect(parseReferenceSpec("@last")).toEqual({ spec: "@last", alias: "@last" });
    expect(parseReferenceSpec("hero")).toBeNull();
    expect(parseReferenceSpec("9b2f4c7e-1d3a")).toBeNull();
  });
});

describe("aliases in a prompt", () => {
  it("finds @words at the start or after whitespace, in order, once each", () => {
    expect(aliasesInPrompt("@hero on a beach with @logo in the corner, like @hero")).toEqual(["@hero", "@logo"]);
    expect(aliasesInPrompt("continue from\n@last and\t@brand-logo.")).toEqual(["@last", "@brand-logo"]);
  });

  it("skips addresses and words that are not aliases", () => {
    expect(aliasesInPrompt("mail me at team@example.com")).toEqual([]);
    expect(aliasesInPrompt(`a @${"x".repeat(50)} and @ alone`)).toEqual([]);
    expect(aliasesInPrompt("a cat")).toEqual([]);
  });
});
