import { MAX_IMAGE_PIXELS } from "../domain/limits";
import { needsFitting, sentSize } from "../domain/references";
import { decodeInspected, type EncodedImage, encodeImage } from "../images/codec";
import { type InspectedImage, inspectForDecoding } from "../images/inspect";
import { exclusively } from "../images/transform/gate";
import { flatten } from "../images/transform/pixels";
import { resize } from "../images/transform/resize";
import { AppError } from "../lib/errors";
import type { ReferenceImage } from "../providers/image-model";
import type { ObjectStore } from "../storage";
import type { Resolution, ResolvedImage } from "./aliases";

/**
 * What reading a reference needs of its resolution (resolveImageRefs gives it): where its image
 * is stored, and the alias it was named by (null for an id), its label in the model's legend.
 */
export type StoredReference = Pick<Resolution, "alias"> & {
  image: Pick<ResolvedImage, "id" | "storageKey">;
  /** The stored object's bytes, when the request has them already (a file it just stored): not read again. */
  bytes?: Uint8Array;
};

/** Quality of a reference re-encoded as JPEG: the model reads it, nobody downloads it. */
const FITTED_JPEG_QUALITY = 85;

/**
 * The references as the image model gets them, in order. Their objects are read in parallel;
 * each is then sent as stored when it is within the inline limits (domain/references.ts), which
 * keeps its bytes (and sha256) as uploaded, or else decoded, fitted within the longest side and
 * encoded again: PNG stays PNG if that is small enough, anything else becomes JPEG. Fitting runs
 * one image at a time in the isolate's transformation slot, so a generation's decodes never
 * stack in memory with each other or with a transformation's (a full slot is a 503
 * TRANSFORM_BUSY). What is sent is judged by the object read, not the row: its header gives the
 * format and size, so the MIME type always matches the bytes. A missing object is a 404
 * IMAGE_NOT_FOUND naming the reference; an object the inspector refuses, its 422.
 *
 * Memory: the stored objects (at most three uploads of 5 MB), then one decode at a time within
 * MAX_IMAGE_PIXELS (the bound transformations are measured at) and an output of at most 1536x1536
 * (a JPEG within MAX_JPEG_OUTPUT_PIXELS at quality 85); what is sent is at most 3 x 3 MiB.
 */
export async function loadReferences(
  deps: { store: ObjectStore },
  references: readonly StoredReference[],
): Promise<ReferenceImage[]> {
  const objects: (Uint8Array | undefined)[] = await Promise.all(
    references.map((reference, index) => readReference(deps.store, reference, index)),
  );
  const loaded: ReferenceImage[] = [];
  for (const [index, reference] of references.entries()) {
    const source = inspectForDecoding(objects[index] as Uint8Array, MAX_IMAGE_PIXELS);
    // The stored bytes are not needed past this point: let them go before the next decode.
    objects[index] = undefined;
    const sent = needsFitting({ ...source, bytes: source.bytes.byteLength }) ? await fitForSending(source) : source;
    loaded.push({
      bytes: sent.bytes,
      mimeType: sent.mimeType,
      width: sent.width,
      height: sent.height,
      label: reference.alias,
    });
  }
  return loaded;
}

async function readReference(store: ObjectStore, { image, bytes }: StoredReference, index: number): Promise<Uint8Array> {
  if (bytes) return bytes;
  const object = await store.get(image.storageKey);
  if (!object) {
    throw new AppError("IMAGE_NOT_FOUND", `Reference image ${index + 1} (${image.id}) has no stored file; choose another image`);
  }
  return new Uint8Array(await new Response(object.body).arrayBuffer());
}

/** Decodes, fits within the longest side and encodes again; see loadReferences. */
function fitForSending(source: InspectedImage): Promise<EncodedImage> {
  return exclusively(async () => {
    const decoded = await decodeInspected(source);
    const size = sentSize(source);
    const scaled = await resize(decoded, size.width, size.height, source.format === "jpeg" || undefined);
    if (source.format === "png") {
      const png = await encodeImage(scaled, "png");
      if (!needsFitting({ ...png, bytes: png.bytes.byteLength })) return png;
    }
    flatten(scaled, [255, 255, 255]);
    return encodeImage(scaled, "jpeg", FITTED_JPEG_QUALITY);
  });
}
