/**
 * Bounds of the transformation service, named so the route, the docs and `GET /api/info` agree.
 * Memory is the binding constraint: a Worker has 128 MB, and a decoded RGBA image costs 4 bytes
 * a pixel, so sources and outputs are capped well below it (see README, "Transformations").
 */

/** Widest or tallest output. */
export const MAX_OUTPUT_DIMENSION = 4096;
/** Most output pixels: 8 MP, 32 MiB as RGBA. */
export const MAX_OUTPUT_PIXELS = 8 * 1024 * 1024;
/** Distinct variants (option sets) one image may have; more is a 429 VARIANT_LIMIT. */
export const MAX_VARIANTS_PER_IMAGE = 32;
/** Presets one project may define. */
export const MAX_PROJECT_PRESETS = 20;
export const MIN_QUALITY = 1;
export const MAX_QUALITY = 100;
/** Largest watermark image: it is decoded next to the source, so it stays small (1 MP). */
export const MAX_WATERMARK_PIXELS = 1024 * 1024;
/** Requests an isolate lets wait for its one running transformation, and for how long, before a 503. */
export const MAX_WAITING_TRANSFORMS = 8;
export const MAX_TRANSFORM_WAIT_MS = 10_000;
/**
 * The longest one transformation holds the isolate's slot. A transformation takes well under a
 * second (about 50 ms for a 2.6 MP source); a holder still there after this is a request whose
 * client went away and that the runtime dropped, so the slot is free again.
 */
export const TRANSFORM_LEASE_MS = 5_000;
