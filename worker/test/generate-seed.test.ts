import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { ApiBody } from "../../site/src/lib/api-contract";
import { sha256Hex } from "../src/domain/hash";
import { MAX_UPLOAD_BYTES } from "../src/domain/limits";
import { api, readProblem } from "./support/app";
import { quotaUsed, withDb } from "./support/fixtures";
import { s3 } from "./support/flows";
import { fakeRequests, freshProjectKey, GEMINI_ENV, marker } from "./support/generation";
import { imageFile } from "./support/images";

type Generated = ApiBody<"generate", 201>["data"];

/** A multipart form of POST /api/generate: its fields, then its files under `field`. */
function generateForm(fields: Record<string, string>, files: [Uint8Array, string][] = [], field = "files[]"): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [bytes, name] of files) form.append(field, new File([bytes], name, { type: "application/octet-stream" }));
  return form;
}

async function generate(key: string, form: FormData, env: Record<string, unknown> = {}) {
  const response = await api("/api/generate", { key, form, env });
  const data = response.status === 201 ? ((await response.clone().json()) as ApiBody<"generate", 201>).data : null;
  return { response, data };
}

/** What the project holds: its image rows and stored objects, and its generations. */
async function holdings(scope: { organization: { slug: string }; project: { id: string; slug: string } }) {
  const counts = await withDb((db) =>
    db.execute<{ images: number; generations: number }>(sql`
      select (select count(*) from images where project_id = ${scope.project.id})::int as images,
             (select count(*) from generations where project_id = ${scope.project.id})::int as generations`),
  );
  const objects = (await s3().list({ prefix: `${scope.organization.slug}/${scope.project.slug}/` })).objects.length;
  return { ...counts.rows[0], objects };
}

describe("POST /api/generate", () => {
  it("stores two files as references, listed with the uploads, and sends their bytes in order before the prompt", async () => {
    const { scope, key } = await freshProjectKey();
    const png = await imageFile("png", 64, 48);
    const jpeg = await imageFile("jpeg", 40, 40);
    const tag = marker();

    const { response, data } = await generate(
      key.key,
      generateForm({ prompt: `the two of them together ${tag}`, autoEnhance: "false", filename: "pair" }, [
        [png, "first.png"],
        [jpeg, "second.jpg"],
      ]),
      GEMINI_ENV,
    );
    expect(response.status, await response.clone().text()).toBe(201);
    const generated = data as Generated;
    expect(generated).toMatchObject({ prompt: `the two of them together ${tag}`, aspectRatio: "4:3", filename: "pair" });
    expect(generated.references).toMatchObject([
      { width: 64, height: 48, mimeType: "image/png" },
      { width: 40, height: 40, mimeType: "image/jpeg" },
    ]);
    const ids = generated.references.map((reference) => reference.id);

    // Listed as the project's references, and served at their URLs as uploaded.
    const listing = await api("/api/images/uploads?category=references", { key: key.key });
    const listed = ((await listing.json()) as ApiBody<"listUploadedImages", 200>).data;
    expect(listed.map((image) => image.id).sort()).toEqual([...ids].sort());
    expect(new Set(listed.map((image) => image.category))).toEqual(new Set(["references"]));
    const served = await api(generated.references[1]?.url as string);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(jpeg);

    // The generation records them, in order, as files.
    const used = await withDb((db) =>
      db.execute<{ image_id: string; spec: string; resolved_via: string }>(
        sql`select image_id, spec, resolved_via from generation_references where generation_id = ${generated.generationId} order by position`,
      ),
    );
    expect(used.rows).toEqual([
      { image_id: ids[0], spec: "files[0]", resolved_via: "file" },
      { image_id: ids[1], spec: "files[1]", resolved_via: "file" },
    ]);

    // The model got both images, as uploaded and in order, then the prompt.
    const calls = (await fakeRequests(tag)).filter((call) => call.model === "gemini-2.5-flash-image");
    expect(calls).toHaveLength(1);
    const parts = calls[0]?.body.contents.flatMap((content) => content.parts) ?? [];
    expect(parts.map((part) => [part.inlineData?.mimeType, part.inlineData?.sha256])).toEqual([
      ["image/png", await sha256Hex(png)],
      ["image/jpeg", await sha256Hex(jpeg)],
      [undefined, undefined],
    ]);
    expect(parts[2]?.text).toContain(`the two of them together ${tag}`);
    // Two references and the output, one generation, one request.
    expect(await holdings(scope)).toEqual({ images: 3, generations: 1, objects: 3 });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(1);
  });

  it("generates from a prompt alone, and takes files sent as `files` and enhancementOptions as JSON", async () => {
    const { key } = await freshProjectKey();
    const alone = await generate(key.key, generateForm({ prompt: "a lighthouse at night", autoEnhance: "false" }));
    expect(alone.response.status, await alone.response.clone().text()).toBe(201);
    expect(alone.data).toMatchObject({ references: [], aspectRatio: "1:1", enhancement: null });

    const one = await generate(
      key.key,
      generateForm(
        { prompt: "the same, in watercolour", enhancementOptions: '{"template":"illustration"}' },
        [[await imageFile("webp", 30, 60), "tall.webp"]],
        "files",
      ),
    );
    expect(one.response.status, await one.response.clone().text()).toBe(201);
    expect(one.data).toMatchObject({ aspectRatio: "9:16", enhancement: { template: "illustration" } });
    expect(one.data?.references).toHaveLength(1);
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(2);
  });

  it("refuses a 4th file, a file over 5 MB, a text file or a bad field before anything is stored or spent", async () => {
    const { scope, key } = await freshProjectKey();
    const png = await imageFile("png", 16, 16);
    const tag = marker();
    const prompt = { prompt: `refused ${tag}`, autoEnhance: "false" };
    const cases: [string, FormData, number, string, string][] = [
      [
        "4 files",
        generateForm(prompt, [
          [png, "a.png"],
          [png, "b.png"],
          [png, "c.png"],
          [png, "d.png"],
        ]),
        400,
        "TOO_MANY_REFERENCES",
        "files",
      ],
      [
        "a file over 5 MB",
        generateForm(prompt, [
          [png, "a.png"],
          [new Uint8Array(MAX_UPLOAD_BYTES + 1), "big.png"],
        ]),
        413,
        "FILE_TOO_LARGE",
        "files[1]",
      ],
      [
        "a text file",
        generateForm(prompt, [[new TextEncoder().encode("just some words, not a picture"), "notes.png"]]),
        415,
        "UNSUPPORTED_FILE_TYPE",
        "files[0]",
      ],
      [
        "enhancementOptions not JSON",
        generateForm({ ...prompt, enhancementOptions: "{template" }, [[png, "a.png"]]),
        400,
        "VALIDATION_ERROR",
        "enhancementOptions",
      ],
      ["no prompt", generateForm({ autoEnhance: "false" }, [[png, "a.png"]]), 400, "VALIDATION_ERROR", "prompt"],
    ];
    for (const [name, form, status, code, field] of cases) {
      const problem = await readProblem((await generate(key.key, form, GEMINI_ENV)).response);
      expect(problem, name).toMatchObject({ status, code });
      expect(
        problem.errors?.map((error) => error.field),
        name,
      ).toContain(field);
    }
    expect(await holdings(scope)).toEqual({ images: 0, generations: 0, objects: 0 });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
    expect(await fakeRequests(tag)).toEqual([]);
  });

  it("limits the body to 3 files of 5 MB: two 4 MB files get through to the file checks, four 5 MB files are cut off", async () => {
    const { scope, key } = await freshProjectKey();
    const junk = (size: number) => new Uint8Array(size).fill(7);
    const two = await generate(
      key.key,
      generateForm({ prompt: "too big for one file's limit" }, [
        [junk(4 * 1024 * 1024), "a.png"],
        [junk(4 * 1024 * 1024), "b.png"],
      ]),
    );
    expect(await readProblem(two.response)).toMatchObject({
      status: 415,
      code: "UNSUPPORTED_FILE_TYPE",
      errors: [{ field: "files[0]" }],
    });
    const four = await generate(
      key.key,
      generateForm(
        { prompt: "over the body limit" },
        Array.from({ length: 4 }, (_, index): [Uint8Array, string] => [junk(MAX_UPLOAD_BYTES), `${index}.png`]),
      ),
    );
    expect(await readProblem(four.response)).toMatchObject({ status: 413, code: "FILE_TOO_LARGE" });
    expect(await holdings(scope)).toEqual({ images: 0, generations: 0, objects: 0 });
    expect(await withDb((db) => quotaUsed(db, key.id))).toBe(0);
  });
});
