import { describe, expect, it } from "vitest";
import { SETTINGS_DOCS, settingsSchema } from "../src/config";

// The configuration page (site/src/pages/docs/configuration.astro) is built from SETTINGS_DOCS.
describe("the configuration reference", () => {
  it("documents every setting the schema reads, and no other", () => {
    expect(Object.keys(SETTINGS_DOCS).sort()).toEqual(Object.keys(settingsSchema.shape).sort());
    for (const [name, doc] of Object.entries(SETTINGS_DOCS)) {
      expect(doc.default.trim(), `${name}'s default`).not.toBe("");
      expect(doc.meaning.trim(), `${name}'s meaning`).not.toBe("");
    }
  });

  it("states the default the schema applies to each setting left unset", () => {
    const given = {
      DATABASE_URL: "postgres://banatie@127.0.0.1:5432/banatie",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_BUCKET: "banatie",
      S3_ACCESS_KEY_ID: "key",
      S3_SECRET_ACCESS_KEY: "secret",
    };
    const settings = settingsSchema.parse(given);
    const defaulted = Object.entries(settings).filter(([name, value]) => !(name in given) && value !== undefined);
    expect(defaulted.map(([name]) => name).sort()).toEqual([
      "ENVIRONMENT",
      "IMAGE_EDGE_CACHE",
      "STORAGE_DRIVER",
      "TRANSFORM_SIGNATURES",
    ]);
    for (const [name, value] of defaulted) {
      expect(SETTINGS_DOCS[name as keyof typeof SETTINGS_DOCS].default, name).toBe(`\`${value}\``);
    }
  });
});
