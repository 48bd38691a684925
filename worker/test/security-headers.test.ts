import { beforeAll, describe, expect, it } from "vitest";
import { api } from "./support/app";
import { freshProjectKey } from "./support/generation";
import { formWith, imageFile, type UploadJson, upload } from "./support/images";

const DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

let imagePath: string;

beforeAll(async () => {
  const { key } = await freshProjectKey();
  const image = (await upload(key.key, formWith(await imageFile("png", 40, 30), "headers.png"))).data as UploadJson;
  imagePath = new URL(image.url).pathname;
});

describe("security headers of the Worker's own responses", () => {
  it("marks JSON answers, problems and the OpenAPI document as data that runs nothing and cannot be framed", async () => {
    for (const [path, status] of [
      ["/api/info", 200],
      ["/api/openapi.json", 200],
      ["/health", 200],
      ["/api/me", 401],
      ["/api/no-such-endpoint", 404],
    ] as const) {
      const response = await api(path);
      await response.arrayBuffer();
      expect(response.status, path).toBe(status);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("content-security-policy"), path).toBe(DATA_CSP);
    }
  });

  it("serves images unsniffable, and without a CSP that would stop a browser showing them on their own", async () => {
    for (const query of ["", "?preset=thumbnail"]) {
      const response = await api(`${imagePath}${query}`);
      await response.arrayBuffer();
      expect(response.status, query).toBe(200);
      expect(response.headers.get("content-type"), query).toMatch(/^image\//);
      expect(response.headers.get("x-content-type-options"), query).toBe("nosniff");
      expect(response.headers.get("content-security-policy"), query).toBeNull();
    }
  });
});
