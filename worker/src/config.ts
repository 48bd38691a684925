import { z } from "zod";

/** Empty strings in .dev.vars or the dashboard mean "not set", not "set to nothing". */
const blankAsUnset = (value: unknown) => (value === "" ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema.optional());
/** One of `values`, or `fallback` when unset or empty. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, error: string, fallback: T[number]) =>
  z.preprocess(blankAsUnset, z.enum(values, { error }).default(fallback));

const postgresUrl = z
  .string({ error: "is required" })
  .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value), "must be a postgres:// URL");

const httpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an http(s) URL");

/** An origin only: CDN image URLs are its root followed by the storage key. */
const httpOrigin = httpUrl.refine((value) => {
  const url = new URL(value);
  return url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
}, "must be an origin such as https://cdn.example.com, without a path");

const MODEL_NAME = /^[\w.-]{1,100}$/;

const hostAndPort = z.string().refine((value) => /^[\w.-]+:\d{1,5}$/.test(value), "must be host:port");

export const settingsSchema = z
  .object({
    ENVIRONMENT: oneOf(
      ["development", "test", "staging", "production"],
      "must be development, test, staging or production",
      // Fail closed: a Worker deployed without the setting gets production's rules (bootstrap
      // token, no plain-WebSocket database proxy). `npm run dev` sets development itself.
      "production",
    ),
    DATABASE_URL: postgresUrl,
    DATABASE_WS_PROXY: optional(hostAndPort),
    DATABASE_HTTP_ENDPOINT: optional(httpUrl),
    STORAGE_DRIVER: oneOf(["s3", "r2"], "must be s3 or r2", "s3"),
    S3_ENDPOINT: optional(httpUrl),
    S3_BUCKET: optional(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid bucket name")),
    S3_REGION: optional(z.string().regex(/^[a-z0-9-]+$/, "must be a region name such as auto or us-east-1")),
    S3_ACCESS_KEY_ID: optional(z.string()),
    S3_SECRET_ACCESS_KEY: optional(z.string()),
    GEMINI_API_KEY: optional(z.string()),
    GEMINI_BASE_URL: optional(httpUrl),
    GEMINI_IMAGE_MODEL: optional(z.string().regex(MODEL_NAME, "must be a model name such as gemini-2.5-flash-image")),
    GEMINI_TEXT_MODEL: optional(z.string().regex(MODEL_NAME, "must be a model name such as gemini-2.5-flash")),
    GEMINI_TIMEOUT_MS: optional(z.coerce.number().int().min(100, "must be at least 100").max(300_000, "must be at most 300000")),
    GEMINI_MAX_ATTEMPTS: optional(z.coerce.number().int().min(1, "must be at least 1").max(5, "must be at most 5")),
    PUBLIC_BASE_URL: optional(httpUrl),
    PUBLIC_CDN_URL: optional(httpOrigin),
    URL_SIGNING_SECRET: optional(z.string().min(32, "must be at least 32 characters")),
    BOOTSTRAP_TOKEN: optional(z.string().min(32, "must be at least 32 characters")),
    IMAGE_EDGE_CACHE: oneOf(["on", "off"], "must be on or off", "on"),
    TRANSFORM_SIGNATURES: oneOf(["required", "optional"], "must be required or optional", "required"),
    AUDIT_RETENTION_DAYS: optional(z.coerce.number().int().min(1, "must be at least 1").max(36_500, "must be at most 36500")),
    STRIPE_SECRET_KEY: optional(
      z.string().regex(/^(sk|rk)_\w+$/, "must be a Stripe secret or restricted key (sk_... or rk_...)"),
    ),
    STRIPE_METER_EVENT_NAME: optional(
      z.string().regex(/^[\w.:-]{1,100}$/, "must be a meter's event name: up to 100 letters, digits, _ . : or -"),
    ),
    STRIPE_API_BASE: optional(httpOrigin),
  })
  .superRefine((settings, ctx) => {
    if (settings.ENVIRONMENT === "production" && settings.DATABASE_WS_PROXY) {
      // The proxy is reached over plain ws and the password is sent in cleartext: local stacks only.
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_WS_PROXY"],
        message: "must not be set in production: it sends the database password unencrypted",
      });
    }
    if (settings.ENVIRONMENT === "production" && settings.DATABASE_HTTP_ENDPOINT?.startsWith("http:")) {
      // The connection string, password included, travels in a header of every request.
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_HTTP_ENDPOINT"],
        message: "must be https in production: it sends the database password with every statement",
      });
    }
    if (settings.ENVIRONMENT === "production" && settings.STRIPE_API_BASE?.startsWith("http:")) {
      ctx.addIssue({
        code: "custom",
        path: ["STRIPE_API_BASE"],
        message: "must be https in production: it sends the Stripe secret key with every request",
      });
    }
    // Half a billing setup would silently bill nobody: say so instead.
    if (Boolean(settings.STRIPE_SECRET_KEY) !== Boolean(settings.STRIPE_METER_EVENT_NAME)) {
      const [missing, present] = settings.STRIPE_SECRET_KEY
        ? (["STRIPE_METER_EVENT_NAME", "STRIPE_SECRET_KEY"] as const)
        : (["STRIPE_SECRET_KEY", "STRIPE_METER_EVENT_NAME"] as const);
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: `is required when ${present} is set (both turn the Stripe export on)`,
      });
    }
    if (settings.STORAGE_DRIVER !== "s3") return;
    for (const name of ["S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
      if (!settings[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required when STORAGE_DRIVER is s3" });
    }
  });

export const DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image";
export const DEFAULT_TEXT_MODEL = "gemini-2.5-flash";
/** Gemini 2.5 Flash Image usually answers in under 10 s; a minute leaves room for slow ones. */
export const DEFAULT_GEMINI_TIMEOUT_MS = 60_000;
export const DEFAULT_GEMINI_ATTEMPTS = 3;
/** A year of audit trail: long enough to answer "who revoked this key last spring?". */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
export const DEFAULT_STRIPE_API_BASE = "https://api.stripe.com";

export type SettingName = keyof typeof settingsSchema.shape;

/** The Workers `npm run deploy` deploys: the API (wrangler.toml) and image delivery (wrangler.delivery.toml). */
export type DeployedWorker = "api" | "delivery";

/** How the configuration page (site/src/pages/docs/configuration.astro) describes one setting. */
export interface SettingDoc {
  /** What applies when the setting is unset, in words a reader can act on. */
  default: string;
  meaning: string;
  /** Set with `wrangler secret put NAME`, never in wrangler.toml. */
  secret?: true;
  /**
   * The deployed Workers that fail or misbehave without the setting, perhaps only while another
   * setting has a given value: `npm run deploy:check` (dev/deploy/) refuses a deploy that leaves
   * it unset.
   */
  requiredWhenDeployed?: {
    by: readonly DeployedWorker[];
    /** Only while another setting has this value, or (`isSet`) any value. */
    when?: { setting: SettingName; is: string } | { setting: SettingName; isSet: true };
  };
}

const BOTH_WORKERS = ["api", "delivery"] as const;
/** The S3 settings matter only while the S3 driver stores the images. */
const BOTH_WORKERS_WITH_S3 = { by: BOTH_WORKERS, when: { setting: "STORAGE_DRIVER", is: "s3" } } as const;

/**
 * The documentation of every setting, next to its schema: the type makes a new setting
 * without an entry fail the type check, and the configuration page is built from this record.
 */
export const SETTINGS_DOCS: { readonly [Name in SettingName]: SettingDoc } = {
  ENVIRONMENT: {
    default: "`production`",
    meaning:
      "`development` (set by `npm run dev`), `test`, `staging` or `production`; reported by `/health`. Outside development, bootstrapping needs `BOOTSTRAP_TOKEN` and `DATABASE_WS_PROXY` is refused in production.",
    // Unset means production: a staging Worker that forgot it would claim production's name.
    requiredWhenDeployed: { by: BOTH_WORKERS },
  },
  DATABASE_URL: {
    default: "the dev stack's database (required when deployed)",
    meaning: "PostgreSQL connection string, `postgres://` or `postgresql://` (Neon: from the Neon console).",
    secret: true,
    requiredWhenDeployed: { by: BOTH_WORKERS },
  },
  DATABASE_WS_PROXY: {
    default: "the dev stack's proxy; unset for Neon",
    meaning: "`host:port` of a Neon-protocol WebSocket proxy (plain ws) to a local PostgreSQL; refused in production.",
  },
  DATABASE_HTTP_ENDPOINT: {
    default: "the dev stack's server; unset for Neon (its endpoint follows `DATABASE_URL`'s host)",
    meaning:
      "URL of a Neon-protocol SQL-over-HTTP endpoint (`http://127.0.0.1:54332/sql`) in front of a local PostgreSQL, which single statements and batches use; plain `http:` is refused in production.",
  },
  STORAGE_DRIVER: {
    default: "`s3`",
    meaning:
      "`s3` (any S3 API via aws4fetch; then `S3_ENDPOINT`, `S3_BUCKET`, `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` are required) or `r2` (the `IMAGES_BUCKET` binding in `wrangler.toml`).",
  },
  S3_ENDPOINT: {
    default: "the dev stack's server",
    meaning: "S3 API endpoint, path-style (`https://<account>.r2.cloudflarestorage.com`, `http://127.0.0.1:9000`, ...).",
    requiredWhenDeployed: BOTH_WORKERS_WITH_S3,
  },
  S3_BUCKET: { default: "`banatie` (in `wrangler.toml`)", meaning: "bucket name.", requiredWhenDeployed: BOTH_WORKERS_WITH_S3 },
  S3_REGION: { default: "`auto`", meaning: "signing region (`auto` for R2, `us-east-1` for MinIO)." },
  S3_ACCESS_KEY_ID: {
    default: "the dev stack's key",
    meaning: "access key.",
    secret: true,
    requiredWhenDeployed: BOTH_WORKERS_WITH_S3,
  },
  S3_SECRET_ACCESS_KEY: {
    default: "the dev stack's secret",
    meaning: "secret key.",
    secret: true,
    requiredWhenDeployed: BOTH_WORKERS_WITH_S3,
  },
  GEMINI_API_KEY: {
    default: "unset",
    meaning: "Google AI Studio key; without it the offline preview model and template enhancer run, and every response says so.",
    secret: true,
    requiredWhenDeployed: { by: ["api"] },
  },
  GEMINI_BASE_URL: {
    default: "Google's endpoint",
    meaning: "another Gemini-protocol server (a proxy, or the fake in `dev/gemini-fake`).",
  },
  GEMINI_IMAGE_MODEL: { default: `\`${DEFAULT_IMAGE_MODEL}\``, meaning: "the image model." },
  GEMINI_TEXT_MODEL: {
    default: `\`${DEFAULT_TEXT_MODEL}\``,
    meaning: "the text model that enhances and translates prompts, answering in a JSON schema.",
  },
  GEMINI_TIMEOUT_MS: {
    default: `\`${DEFAULT_GEMINI_TIMEOUT_MS}\``,
    meaning: "milliseconds allowed for one model call (100-300000); all attempts of a call share twice this.",
  },
  GEMINI_MAX_ATTEMPTS: {
    default: `\`${DEFAULT_GEMINI_ATTEMPTS}\``,
    meaning: "attempts per model call (1-5), retried on 408, 429 and 5xx with jittered backoff.",
  },
  PUBLIC_BASE_URL: {
    default: "the request's origin",
    meaning:
      "public origin of `/api/images/...` URLs behind a custom domain; `PUBLIC_CDN_URL`, when set, takes precedence for image URLs.",
  },
  PUBLIC_CDN_URL: {
    default: "unset: image URLs are `/api/images/...` on the API's origin",
    meaning:
      "origin of the image delivery Worker's own host (`https://cdn.example.com`); the API then returns every image URL as `{PUBLIC_CDN_URL}/{org}/{project}/{category}/{file}`, and `/api/images/...` URLs keep working. Set the same value on both Workers: edge cache entries are keyed by it, so the API's purges reach what the CDN cached.",
  },
  URL_SIGNING_SECRET: {
    default: "unset (`npm run dev` makes one in `.data/`)",
    meaning:
      "32+ characters that sign temporary and transform URLs; without it asking for one answers 500 `CONFIGURATION_ERROR` and signed URLs are refused. The delivery Worker needs the same value.",
    secret: true,
    requiredWhenDeployed: { by: BOTH_WORKERS },
  },
  BOOTSTRAP_TOKEN: {
    default: "unset",
    meaning:
      "32+ characters that creating the first master key needs in `X-Bootstrap-Token` whenever `ENVIRONMENT` is not development; without it such a deployment refuses to bootstrap.",
    secret: true,
    // A new deployment cannot create its first master key without it.
    requiredWhenDeployed: { by: ["api"] },
  },
  IMAGE_EDGE_CACHE: {
    default: "`on`",
    meaning: "`on` or `off`: serve images through the Workers Cache API (it only works on a custom domain).",
  },
  TRANSFORM_SIGNATURES: {
    default: "`required`",
    meaning: "`required` or `optional`: whether arbitrary sizes, crops and qualities need a signed URL (presets never do).",
  },
  AUDIT_RETENTION_DAYS: {
    default: `\`${DEFAULT_AUDIT_RETENTION_DAYS}\``,
    meaning: "days the audit trail is kept (1-36500); the scheduled maintenance deletes older events in bounded batches.",
  },
  STRIPE_SECRET_KEY: {
    default: "unset: no usage is sent to Stripe",
    meaning:
      "Stripe secret or restricted key (`sk_...`, `rk_...` with write access to meter events). With `STRIPE_METER_EVENT_NAME` it turns on the billing export: the scheduled maintenance sends each billable usage event to Stripe as a meter event whose value is its cost in USD micros (see the deploy guide).",
    secret: true,
    // The Worker refuses a meter name without a key (config.ts): catch that before deploying.
    requiredWhenDeployed: { by: ["api"], when: { setting: "STRIPE_METER_EVENT_NAME", isSet: true } },
  },
  STRIPE_METER_EVENT_NAME: {
    default: "unset",
    meaning: "event name of the Stripe meter (a sum meter) that billable usage is sent to; required with `STRIPE_SECRET_KEY`.",
  },
  STRIPE_API_BASE: {
    default: `\`${DEFAULT_STRIPE_API_BASE}\``,
    meaning: "origin of the Stripe API (the fake in `dev/stripe-fake` for tests); plain `http:` is refused in production.",
  },
};

export type S3Settings = { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };

/** The validated configuration of one deployment, derived from its bindings and variables. */
export interface Config {
  environment: "development" | "test" | "staging" | "production";
  databaseUrl: string;
  /** host:port of a Neon-protocol WebSocket proxy in front of a plain PostgreSQL (local stacks). */
  databaseWsProxy?: string;
  /** Neon-protocol SQL-over-HTTP endpoint in front of a plain PostgreSQL (local stacks); Neon's own otherwise. */
  databaseHttpEndpoint?: string;
  storage: { driver: "s3"; s3: S3Settings } | { driver: "r2"; bucket: R2Bucket };
  gemini: {
    apiKey?: string;
    baseUrl?: string;
    imageModel: string;
    textModel: string;
    /** Time allowed for one attempt; all attempts of a call share twice this (see providers/gemini/client.ts). */
    timeoutMs: number;
    maxAttempts: number;
  };
  publicBaseUrl?: string;
  /** Origin of the image CDN host, without a trailing slash; image URLs are its root plus the storage key. */
  publicCdnUrl?: string;
  /** Signs temporary image URLs; without it they cannot be issued or served. */
  urlSigningSecret?: string;
  /**
   * The secret that creating the first master key needs outside development; without it, a
   * non-development deployment refuses to bootstrap rather than let the first caller in.
   */
  bootstrapToken?: string;
  /** Serve images through the Workers Cache API (it only works on a custom domain). */
  edgeCache: boolean;
  /** Arbitrary sizes, crops and qualities need a signed URL (presets never do). */
  transformSignaturesRequired: boolean;
  /** Audit events older than this many days are deleted by the scheduled maintenance. */
  auditRetentionDays: number;
  /** Where billable usage is sent as meter events; unset, the billing export is off. */
  stripe?: StripeSettings;
}

export interface StripeSettings {
  secretKey: string;
  meterEventName: string;
  /** Origin of the Stripe API, without a trailing slash. */
  apiBase: string;
}

/**
 * A bad configuration, naming each bad setting. lib/errors.ts answers it as a 500
 * CONFIGURATION_ERROR problem; it is not an AppError because everything, lib/ included, reads
 * this module, so it imports nothing of the platform.
 */
export class ConfigurationError extends Error {
  constructor(problems: string[]) {
    super(`Invalid server configuration: ${problems.join("; ")}`);
    this.name = "ConfigurationError";
  }
}

const parsed = new WeakMap<object, Config>();

/**
 * Validates the Worker's environment. Errors name each bad setting and why, never its value,
 * since values are often secrets. The result is memoised per env object, which is stable for
 * the life of an isolate.
 */
export function loadConfig(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;

  const result = settingsSchema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  const bucket = (env as { IMAGES_BUCKET?: R2Bucket }).IMAGES_BUCKET;
  if (result.success && result.data.STORAGE_DRIVER === "r2" && !bucket) {
    problems.push("IMAGES_BUCKET binding is required when STORAGE_DRIVER is r2");
  }
  if (!result.success || problems.length > 0) {
    throw new ConfigurationError(problems);
  }

  const settings = result.data;
  const config: Config = {
    environment: settings.ENVIRONMENT,
    databaseUrl: settings.DATABASE_URL,
    databaseWsProxy: settings.DATABASE_WS_PROXY,
    databaseHttpEndpoint: settings.DATABASE_HTTP_ENDPOINT,
    storage:
      settings.STORAGE_DRIVER === "r2" && bucket
        ? { driver: "r2", bucket }
        : {
            driver: "s3",
            s3: {
              endpoint: settings.S3_ENDPOINT ?? "",
              bucket: settings.S3_BUCKET ?? "",
              region: settings.S3_REGION ?? "auto",
              accessKeyId: settings.S3_ACCESS_KEY_ID ?? "",
              secretAccessKey: settings.S3_SECRET_ACCESS_KEY ?? "",
            },
          },
    gemini: {
      apiKey: settings.GEMINI_API_KEY,
      baseUrl: settings.GEMINI_BASE_URL,
      imageModel: settings.GEMINI_IMAGE_MODEL ?? DEFAULT_IMAGE_MODEL,
      textModel: settings.GEMINI_TEXT_MODEL ?? DEFAULT_TEXT_MODEL,
      timeoutMs: settings.GEMINI_TIMEOUT_MS ?? DEFAULT_GEMINI_TIMEOUT_MS,
      maxAttempts: settings.GEMINI_MAX_ATTEMPTS ?? DEFAULT_GEMINI_ATTEMPTS,
    },
    publicBaseUrl: settings.PUBLIC_BASE_URL,
    publicCdnUrl: settings.PUBLIC_CDN_URL && new URL(settings.PUBLIC_CDN_URL).origin,
    urlSigningSecret: settings.URL_SIGNING_SECRET,
    bootstrapToken: settings.BOOTSTRAP_TOKEN,
    edgeCache: settings.IMAGE_EDGE_CACHE === "on",
    transformSignaturesRequired: settings.TRANSFORM_SIGNATURES === "required",
    auditRetentionDays: settings.AUDIT_RETENTION_DAYS ?? DEFAULT_AUDIT_RETENTION_DAYS,
    stripe:
      settings.STRIPE_SECRET_KEY && settings.STRIPE_METER_EVENT_NAME
        ? {
            secretKey: settings.STRIPE_SECRET_KEY,
            meterEventName: settings.STRIPE_METER_EVENT_NAME,
            apiBase: new URL(settings.STRIPE_API_BASE ?? DEFAULT_STRIPE_API_BASE).origin,
          }
        : undefined,
  };
  parsed.set(env, config);
  return config;
}
