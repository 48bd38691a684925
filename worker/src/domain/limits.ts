/**
 * Every input and upstream limit of the platform as a named constant. Handlers and services
 * import these instead of repeating numbers, and `GET /api/info` publishes the user-facing ones.
 */

/** Largest accepted upload, enforced while the body streams. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
/** Room for the multipart envelope and small fields around the file. */
export const MAX_MULTIPART_OVERHEAD_BYTES = 16 * 1024;
/**
 * Most pixels an image may declare: 8 MP (4096x2048, 3840x2160, an 8 MP camera's 3264x2448).
 * Every stored image must be transformable inside a Worker's 128 MB: decoding costs about 10
 * bytes a pixel at its peak (the decoder's WASM buffer plus the RGBA copy handed to JS), measured
 * at 78-91 MB for 8 MP and 117-129 MB for 12.6 MP (docs: site/src/pages/docs/transformations.md). A tiny file
 * declaring more is also how decompression bombs look.
 */
export const MAX_IMAGE_PIXELS = 4096 * 2048;
/**
 * Decode memory every image costs per pixel: its RGBA inside the decoder's WASM memory, and the
 * RGBA copy handed to JS. A decode may need no more than MAX_IMAGE_PIXELS of this (64 MiB), the
 * cost the pixel limit was measured at. A multi-scan (progressive) JPEG also makes libjpeg buffer
 * every 8x8 block's coefficients, 128 bytes each: 6 bytes a pixel at 4:4:4, 3 at 4:2:0, 2 for
 * grey, so it must have fewer pixels (about 4.8 MP at 4:4:4, 6.1 MP at 4:2:0). Measured for
 * 4096x2048 with the Worker's decoder (`npx node bench/jpeg-decode-memory.ts`, decoder WASM memory
 * plus RGBA copy): baseline 4:2:0 68 MiB, progressive 4:2:0 92 MiB, progressive 4:4:4 117 MiB.
 */
export const DECODED_BYTES_PER_PIXEL = 8;
/** Longest prompt accepted by text-to-image and enhance. */
export const MAX_PROMPT_LENGTH = 5000;
/** Largest page of a listing. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 30;
/**
 * Bounds of the v1 API (references, aliases, flows), after Banatie's v1 contract and Gemini 2.5
 * Flash Image's input limits.
 */

/** Most reference images one generation sends: Gemini 2.5 Flash Image takes at most 3 images per prompt. */
export const MAX_REFERENCES = 3;
/** Most reference files `POST /api/generate` takes, one per reference. */
export const MAX_GENERATE_FILES = MAX_REFERENCES;
/** Longest alias, its `@` included. */
export const MAX_ALIAS_LENGTH = 50;
/** Largest `meta` object of an image, generation or flow, as UTF-8 JSON. */
export const MAX_META_BYTES = 4096;
/** Page size of v1 lists when the client names none (Banatie's default); the largest is MAX_PAGE_SIZE. */
export const V1_DEFAULT_PAGE_SIZE = 20;
/** Deepest `offset` of a v1 list: an offset page scans every row before it. */
export const MAX_LIST_OFFSET = 10_000;
/**
 * A reference larger than this, or with a longer side than REFERENCE_MAX_INLINE_SIDE, is fitted
 * before it is sent inline: three of them stay under Gemini's 20 MB request once base64 adds a
 * third, and each stays under its 7 MB per image.
 */
export const REFERENCE_MAX_INLINE_BYTES = 3 * 1024 * 1024;
export const REFERENCE_MAX_INLINE_SIDE = 1536;

/** Largest JSON request body; prompts are the biggest field, so this leaves generous room. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;
/** Default exact hourly quota of a project key. */
export const DEFAULT_HOURLY_LIMIT = 100;

/** How long a health probe waits for a dependency before calling it down. */
export const HEALTH_CHECK_TIMEOUT_MS = 3000;
/** Budget of one object storage request, retries included. */
export const STORAGE_TIMEOUT_MS = 10_000;
/** Retries of a storage request after a network error, 429 or 5xx (with exponential backoff). */
export const STORAGE_RETRIES = 2;

/**
 * Deadlines of the database: opening a connection, and one statement on it. A server that
 * accepts connections but never answers (overloaded, paused, a half-open network path) would
 * otherwise hold a request open for minutes. Every statement of the platform takes milliseconds.
 */
export const DATABASE_CONNECT_TIMEOUT_MS = 5000;
export const DATABASE_STATEMENT_TIMEOUT_MS = 5000;
/** How long closing a request's pool may take before its connections are simply dropped. */
export const DATABASE_CLOSE_TIMEOUT_MS = 2000;
/** What a 503 DATABASE_UNAVAILABLE tells clients to wait before trying again. */
export const DATABASE_RETRY_AFTER_SECONDS = 10;
/**
 * A write that timed out may still land; it is repaired in the background (storage/abandoned-write.ts)
 * within this budget: background work gets about 30 s after the response, and closing the
 * request's database pool (DATABASE_CLOSE_TIMEOUT_MS) comes after it.
 */
export const ABANDONED_WRITE_BUDGET_MS = 22_000;
/** The pause before looking again whether a late write landed. */
export const ABANDONED_WRITE_RECHECK_MS = 1000;

/**
 * Bounds of the transformation service, named so the route, the docs and `GET /api/info` agree.
 * Memory is the binding constraint: a Worker has 128 MB, and a decoded RGBA image costs 4 bytes
 * a pixel, so sources and outputs are capped well below it (see site/src/pages/docs/transformations.md).
 */

/** Widest or tallest output. */
export const MAX_OUTPUT_DIMENSION = 4096;
/** Most output pixels: 8 MP, 32 MiB as RGBA. */
export const MAX_OUTPUT_PIXELS = 8 * 1024 * 1024;
/**
 * Most pixels of a JPEG output. MozJPEG holds the whole image while it optimises it, so its WASM
 * memory grows with the pixels and with the bytes it writes (noise at high quality needs most),
 * and never shrinks: one encode at 8 MP took 133 MiB at q82 and 277 MiB at q100
 * (`npx node bench/encode-memory.ts`), more than a Worker's 128 MB. Below quality 90 chroma is
 * halved both ways (4:2:0, images/jpeg-settings.ts) and noise at 2.6 MP takes 53 MiB (85 MiB at
 * 3.5 MP): 2.5 MP, which holds 1920x1280 (`preset=large` of a 3:2 photo). From quality 90 chroma
 * is whole (4:4:4) and noise at q100 takes 49 MiB at 1 MP (72-84 MiB at 2 MP): 1 MP, the largest
 * generated image. Both within JPEG_ENCODER_MEMORY_BUDGET.
 */
export const MAX_JPEG_OUTPUT_PIXELS = 2560 * 1024;
export const MAX_FULL_CHROMA_JPEG_OUTPUT_PIXELS = 1024 * 1024;
/**
 * WASM memory the JPEG encoder may reach. While it encodes, the isolate also holds the decoder's
 * memory, which never shrinks either (up to about 45 MiB for a source within MAX_IMAGE_PIXELS and
 * DECODED_BYTES_PER_PIXEL), the output's RGBA (10 MiB at MAX_JPEG_OUTPUT_PIXELS) and the Worker's own
 * heap: this is what remains of 128 MB (122 MiB) with some room. A Node test holds the encoder to it.
 */
export const JPEG_ENCODER_MEMORY_BUDGET = 64 * 1024 * 1024;
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
/**
 * The longest a request making a variant keeps others waiting for its edge copy: its own wait
 * for the slot, its transformation, and the copy's storing (delivery/variant-flights.ts).
 */
export const VARIANT_FLIGHT_LEASE_MS = MAX_TRANSFORM_WAIT_MS + 2 * TRANSFORM_LEASE_MS;

/**
 * Bounds of the scheduled maintenance (worker/src/scheduled.ts), which runs every 15 minutes.
 * Each job does at most this much per run, so one run stays far inside a cron invocation's
 * limits however much has piled up; what is left is done by the next runs.
 */

/** Model calls one generation may make: the prompt enhancer's and the image model's. */
export const MODEL_CALLS_PER_GENERATION = 2;
/**
 * Added to a generation's model budget before a pending one is called abandoned: room for
 * encoding, storage and the database, and for clocks that disagree.
 */
export const STUCK_GENERATION_MARGIN_MS = 5 * 60 * 1000;
/** Pending generations marked failed per run. */
export const STUCK_GENERATIONS_PER_RUN = 500;
/** Budget reservations of ended requests released per run. */
export const STALE_RESERVATIONS_PER_RUN = 1000;
/**
 * Age before an object no row references may be removed. Objects are written before their rows
 * commit, so a young unreferenced object may be one whose rows are on their way.
 */
export const ORPHAN_GRACE_MS = 24 * 60 * 60 * 1000;
/** Objects listed per run while looking for unreferenced ones (a listing page holds 1000). */
export const ORPHAN_SCAN_PER_RUN = 5000;
/** Unreferenced objects deleted per run. */
export const ORPHAN_DELETES_PER_RUN = 200;
/** Length of a quota window (rate_limit_windows): an hour. */
export const QUOTA_WINDOW_MS = 60 * 60 * 1000;
/** Rows one maintenance statement deletes, so no statement holds locks for long. */
export const MAINTENANCE_BATCH_SIZE = 1000;
/** Rows a pruning job (quota windows, audit events, webhook deliveries) deletes per run, in batches. */
export const PRUNED_ROWS_PER_RUN = 10_000;
/** Billable usage events the Stripe export sends per run (one request each), oldest first. */
export const STRIPE_EXPORTS_PER_RUN = 500;
/**
 * Events Stripe may refuse in one run before the run stops: a few refusals are bad events (an
 * unknown customer), many are a bad setting (the meter's name) that every event would hit.
 */
export const STRIPE_REJECTIONS_PER_RUN = 10;
/**
 * Age past which a usage event is no longer sent to Stripe: Stripe takes meter events from the
 * past 35 days; a day less leaves room for clocks that disagree and a run that starts late.
 */
export const STRIPE_METER_EVENT_MAX_AGE_MS = 34 * 24 * 60 * 60 * 1000;

/**
 * `Idempotency-Key` (services/idempotency.ts), after the IETF draft and Stripe: a key is at most
 * this long, its first request's answer is replayed for IDEMPOTENCY_TTL_MS, and an answer larger
 * than IDEMPOTENCY_MAX_BODY_BYTES (a generation's JSON is a few KiB) is not kept.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_MAX_BODY_BYTES = 64 * 1024;
/** Expired idempotency records the maintenance deletes per run, in batches. */
export const IDEMPOTENCY_RECORDS_PRUNED_PER_RUN = 10_000;

/**
 * Waits between a webhook message's attempts, the Standard Webhooks schedule: after the first
 * attempt fails, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (each within a queue's 12 h maximum
 * delay); a message whose eighth attempt fails is given up.
 */
export const WEBHOOK_RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;
/** Time one webhook attempt has to be answered. */
export const WEBHOOK_ATTEMPT_TIMEOUT_MS = 15_000;
/** How long a rotated-out webhook secret keeps signing alongside the new one. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
/**
 * How long webhook deliveries are listed (GET /api/v1/webhooks/deliveries) before the maintenance
 * prunes them: well past the last retry (about 38 hours after the first attempt).
 */
export const WEBHOOK_DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** The longest `Prefer: wait=N` a generating request may hold its connection for (as Replicate's). */
export const MAX_PREFER_WAIT_SECONDS = 60;

/** How often a request held by `Prefer: wait=N` reads its generation's status. */
export const PREFER_WAIT_POLL_MS = 250;
