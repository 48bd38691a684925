import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDeliveryApp } from "../src/delivery-app";
import { decodeImage, encodeImage } from "../src/images/codec";
import { api, readProblem } from "./support/app";
import { insertImageRow, type TestProject, withDb } from "./support/fixtures";
import { setFlowAlias, setProjectAlias } from "./support/flows";
import { freshProjectKey } from "./support/generation";
import { formWith, type UploadJson, upload } from "./support/images";

/** The image delivery Worker, as on the CDN host. */
const delivery = buildDeliveryApp();

/** An `img/` URL on the API's host and on the CDN's (the delivery Worker), each fetched. */
const HOSTS = {
  api: (scope: TestProject, ref: string, init: Parameters<typeof api>[1] = {}) =>
    api(`/api/images/${scope.organization.slug}/${scope.project.slug}/img/${ref}`, init),
  cdn: (scope: TestProject, ref: string, init: Parameters<typeof api>[1] = {}) =>
    api(`/${scope.organization.slug}/${scope.project.slug}/img/${ref}`, { ...init, app: delivery }),
};

/** A PNG whose left half is red and right half blue, so a crop shows which side it kept. */
async function twoColourPng(width: number, height: number): Promise<Uint8Array> {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const left = i % width < width / 2;
    data.set(left ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  }
  return (await encodeImage({ data, width, height }, "png")).bytes;
}

async function uploadPng(key: string, bytes: Uint8Array): Promise<UploadJson> {
  const { data } = await upload(key, formWith(bytes, "pic.png"));
  if (!data) throw new Error("upload failed");
  return data;
}

/** The RGB of the pixel at the centre of an answered PNG. */
async function centreColour(response: Response): Promise<number[]> {
  const image = await decodeImage(new Uint8Array(await response.arrayBuffer()), 10_000_000);
  const at = (Math.floor(image.height / 2) * image.width + Math.floor(image.width / 2)) * 4;
  return [...image.data.slice(at, at + 3)];
}

let scope: TestProject;
let key: string;
let first: UploadJson;
let second: UploadJson;
let firstBytes: Uint8Array;
let secondBytes: Uint8Array;

beforeAll(async () => {
  const project = await freshProjectKey();
  scope = project.scope;
  key = project.key.key;
  firstBytes = await twoColourPng(300, 100);
  secondBytes = await twoColourPng(120, 80);
  first = await uploadPng(key, firstBytes);
  second = await uploadPng(key, secondBytes);
});

describe.each(Object.entries(HOSTS))("img/ URLs on the %s host", (_host, fetchRef) => {
  it("serve an image by id, revalidated, with its object's ETag", async () => {
    const response = await fetchRef(scope, first.id);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, no-cache");
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(firstBytes);
    const own = await api(new URL(first.url).pathname);
    expect(response.headers.get("etag")).toBe(own.headers.get("etag"));
    await own.body?.cancel();

    const etag = response.headers.get("etag") as string;
    const revalidated = await fetchRef(scope, first.id, { headers: { "If-None-Match": etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("cache-control")).toBe("public, no-cache");

    const head = await fetchRef(scope, first.id, { method: "HEAD" });
    expect([head.status, head.headers.get("etag"), head.headers.get("content-length")]).toEqual([
      200,
      etag,
      String(firstBytes.byteLength),
    ]);
    const range = await fetchRef(scope, first.id, { headers: { Range: "bytes=0-9" } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(firstBytes.slice(0, 10));
  });

  it("serve what an alias names now: after a move, the other image with a new ETag", async () => {
    const alias = `@hero-${crypto.randomUUID().slice(0, 8)}`;
    await setProjectAlias(scope.project.id, first.id, alias);
    const before = await fetchRef(scope, alias);
    expect(before.status).toBe(200);
    expect(before.headers.get("cache-control")).toBe("public, no-cache");
    expect(new Uint8Array(await before.arrayBuffer())).toEqual(firstBytes);
    const oldEtag = before.headers.get("etag") as string;
    const escaped = await fetchRef(scope, `%40${alias.slice(1)}`, { headers: { "If-None-Match": oldEtag } });
    expect(escaped.status).toBe(304);

    await setProjectAlias(scope.project.id, second.id, alias);
    // Revalidating the old copy gets the new image: the alias never stays at the edge, and a date
    // proves nothing, since the alias may move to an older image.
    const tomorrow = new Date(Date.now() + 86_400_000).toUTCString();
    const after = await fetchRef(scope, alias, { headers: { "If-Modified-Since": tomorrow } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(oldEtag);
    expect(new Uint8Array(await after.arrayBuffer())).toEqual(secondBytes);
  });

  it("transform as the image's own URL does, revalidated, and change with the alias", async () => {
    const alias = `@thumb-${crypto.randomUUID().slice(0, 8)}`;
    await setProjectAlias(scope.project.id, first.id, alias);
    const thumbnail = await fetchRef(scope, `${alias}?preset=small&format=png`);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("cache-control")).toBe("public, no-cache");
    const decoded = await decodeImage(new Uint8Array(await thumbnail.clone().arrayBuffer()), 10_000_000);
    expect([decoded.width, decoded.height]).toEqual([480, 160]);
    const own = await api(`${new URL(first.url).pathname}?preset=small&format=png`);
    expect(new Uint8Array(await thumbnail.arrayBuffer())).toEqual(new Uint8Array(await own.arrayBuffer()));

    await setProjectAlias(scope.project.id, second.id, alias);
    const moved = await fetchRef(scope, `${alias}?preset=small&format=png`, {
      headers: { "If-None-Match": thumbnail.headers.get("etag") as string },
    });
    expect(moved.status).toBe(200);
    const movedSize = await decodeImage(new Uint8Array(await moved.arrayBuffer()), 10_000_000);
    expect([movedSize.width, movedSize.height]).toEqual([480, 320]);
  });
});

describe("img/ URLs and the focal point", () => {
  it("crop a thumbnail around the image's focal point, with an ETag that follows it", async () => {
    const { scope: own, key: ownKey } = await freshProjectKey();
    const wide = await uploadPng(ownKey.key, await twoColourPng(300, 100));
    const centred = await HOSTS.api(own, `${wide.id}?preset=thumbnail&format=png`);
    expect(centred.status).toBe(200);
    const centredEtag = centred.headers.get("etag");
    await centred.body?.cancel();

    for (const [x, colour] of [
      [0, [255, 0, 0]],
      [1, [0, 0, 255]],
    ] as const) {
      await withDb((db) => db.execute(sql`update images set focal_x = ${x}, focal_y = 0.5 where id = ${wide.id}`));
      for (const fetchRef of Object.values(HOSTS)) {
        const response = await fetchRef(own, `${wide.id}?preset=thumbnail&format=png`);
        expect(response.status).toBe(200);
        expect(response.headers.get("etag")).not.toBe(centredEtag);
        expect(await centreColour(response), `focal x=${x}`).toEqual(colour);
      }
    }
    // Where arbitrary sizes need a signature, so do they here: an img/ URL is never signed.
    const unsigned = await HOSTS.api(own, `${wide.id}?w=256&h=256&format=png`, { env: { TRANSFORM_SIGNATURES: "required" } });
    expect(await readProblem(unsigned)).toMatchObject({ status: 403, code: "SIGNATURE_REQUIRED" });
  });
});

describe("img/ URLs that name no servable image", () => {
  it("are 404: another organization's slug, another project's id, a deleted image, a flow or technical alias", async () => {
    const other = await freshProjectKey();
    const foreign = await uploadPng(other.key.key, await twoColourPng(20, 20));
    const flowId = crypto.randomUUID();
    await withDb((db) => db.execute(sql`update images set flow_id = ${flowId} where id = ${second.id}`));
    await setFlowAlias(scope.project.id, flowId, second.id, "@flow-only");
    const deleted = await withDb((db) => insertImageRow(db, scope, "uploads", { deletedAt: new Date() }));
    const aliasOfForeign = "@foreign";
    await setProjectAlias(other.scope.project.id, foreign.id, aliasOfForeign);

    const wrongOrg = { ...scope, organization: other.scope.organization };
    const cases: [TestProject, string][] = [
      [wrongOrg, first.id],
      [scope, foreign.id],
      [scope, aliasOfForeign],
      [scope, deleted],
      [scope, "@flow-only"],
      [scope, "@last"],
      [scope, "@LAST"],
      [scope, "@upload"],
      [scope, crypto.randomUUID()],
    ];
    for (const fetchRef of Object.values(HOSTS)) {
      for (const [project, ref] of cases) {
        const response = await fetchRef(project, ref);
        expect(response.status, ref).toBe(404);
        expect((await readProblem(response)).code).toBe("NOT_FOUND");
      }
    }
  });

  it("are 404 for a private project, and serve again once it is public", async () => {
    const { scope: own, key: ownKey } = await freshProjectKey();
    const image = await uploadPng(ownKey.key, await twoColourPng(20, 20));
    await setProjectAlias(own.project.id, image.id, "@secret");
    await withDb((db) => db.execute(sql`update projects set private = true where id = ${own.project.id}`));
    for (const fetchRef of Object.values(HOSTS)) {
      for (const ref of [image.id, "@secret", `${image.id}?preset=thumbnail`, "@secret?preset=thumbnail&watermark=0"]) {
        const response = await fetchRef(own, ref);
        expect(response.status, ref).toBe(404);
        await response.body?.cancel();
      }
    }
    await withDb((db) => db.execute(sql`update projects set private = false where id = ${own.project.id}`));
    const response = await HOSTS.cdn(own, "@secret");
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("are 404 for hostile spellings, before any lookup, and ignore parameters outside the grammar", async () => {
    const alias = `@safe-${crypto.randomUUID().slice(0, 8)}`;
    await setProjectAlias(scope.project.id, first.id, alias);
    const hostile = [
      `${alias}%2f..`,
      `%2e%2e`,
      `${alias.slice(0, 2)}%61${alias.slice(3)}`,
      `%2540${alias.slice(1)}`,
      `${alias}/`,
      `${alias}/x`,
      `@${"a".repeat(50)}`,
      "@",
      "hero",
      `${first.id}.png`,
      `${first.id}%00`,
    ];
    for (const fetchRef of Object.values(HOSTS)) {
      for (const ref of hostile) {
        const response = await fetchRef(scope, ref);
        expect(response.status, ref).toBe(404);
        await response.body?.cancel();
      }
      const tracked = await fetchRef(scope, `${alias}?utm_source=x&fbclid=1&ref=`);
      expect(tracked.status).toBe(200);
      expect(new Uint8Array(await tracked.arrayBuffer())).toEqual(firstBytes);
      const repeated = await readProblem(await fetchRef(scope, `${alias}?preset=small&preset=large`));
      expect(repeated).toMatchObject({ status: 400, code: "INVALID_TRANSFORM" });
    }
    // The segment is img, exactly: other spellings are no category either.
    for (const segment of ["IMG", "im%67", "images"]) {
      const response = await api(`/api/images/${scope.organization.slug}/${scope.project.slug}/${segment}/${first.id}`);
      expect(response.status, segment).toBe(404);
      await response.body?.cancel();
    }
  });
});
