import { createMiddleware } from "hono/factory";
import { type Config, loadConfig } from "../config";
import { createDatabase, createSessionDatabase } from "../db/client";
import { logFailure } from "../lib/log";
import type { ImageModel } from "../providers/image-model";
import type { PromptEnhancer } from "../providers/prompt-enhancer";
import { failedAuthThrottle, type ThrottleMemory } from "../rate-limit/auth-throttle";
import { bindingRateLimiter, unlimited } from "../rate-limit/rate-limiter";
import type { WebhookQueue } from "../services/webhooks/deliveries";
import { createObjectStore } from "../storage";
import type { HonoEnv, Services } from "./env";

/** A value built on first use; requests that never need it (a cache hit) never pay for it. */
function lazy<T>(build: () => T): { get(): T; ifBuilt(): T | undefined } {
  let value: T | undefined;
  let built = false;
  return {
    get() {
      if (!built) {
        value = build();
        built = true;
      }
      return value as T;
    },
    ifBuilt: () => value,
  };
}

/** The image-delivery Worker has no WEBHOOK_QUEUE binding: it never generates, so nothing sends here. */
const noWebhookQueue: WebhookQueue = {
  send: () => Promise.reject(new Error("This Worker has no WEBHOOK_QUEUE binding")),
};

/** Clients over their failed-authentication budget, remembered for this isolate's lifetime. */
const throttledClients: ThrottleMemory = new Map();

/**
 * Builds the image model and prompt enhancer. A parameter, not an import, so that a Worker that
 * never generates (image delivery) does not bundle the model SDK.
 */
export type ModelFactory = (gemini: Config["gemini"]) => { imageModel: ImageModel; enhancer: PromptEnhancer };

/**
 * Validates the configuration and gives the request its clients: database, storage, models and
 * limiters, each built on first use. A bad configuration fails here, so every request answers
 * with the same clear 500 problem.
 */
export const services = (createModels: ModelFactory) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    const config = loadConfig(c.env);
    const env = c.env as Partial<Env>;
    const deferred: Promise<unknown>[] = [];
    const afterResponse: (() => Promise<unknown>)[] = [];
    const database = lazy(() => createDatabase(config));
    const session = lazy(() => createSessionDatabase(config));
    const store = lazy(() => createObjectStore(config.storage));
    const models = lazy(() => createModels(config.gemini));

    const requestServices: Services = {
      get db() {
        return database.get();
      },
      get sessionDb() {
        return session.get().db;
      },
      get store() {
        return store.get();
      },
      get imageModel() {
        return models.get().imageModel;
      },
      get enhancer() {
        return models.get().enhancer;
      },
      burstLimiter: env.KEY_BURST_LIMITER ? bindingRateLimiter(env.KEY_BURST_LIMITER) : unlimited,
      authThrottle: failedAuthThrottle({
        limiter: env.AUTH_FAILURE_LIMITER ? bindingRateLimiter(env.AUTH_FAILURE_LIMITER) : unlimited,
        memory: throttledClients,
        cache: typeof caches === "undefined" ? null : caches.default,
      }),
      clientLimiter: env.PUBLIC_IP_LIMITER ? bindingRateLimiter(env.PUBLIC_IP_LIMITER) : unlimited,
      billingExport: config.stripe !== undefined,
      webhookQueue: env.WEBHOOK_QUEUE ?? noWebhookQueue,
      defer(task) {
        deferred.push(
          task().catch((error: unknown) => logFailure("background task failed", error, { requestId: c.get("requestId") })),
        );
      },
      afterResponse(task) {
        afterResponse.push(task);
      },
    };
    c.set("config", config);
    c.set("services", requestServices);
    try {
      await next();
    } finally {
      for (const task of afterResponse) requestServices.defer(task);
      // Background work may still need the session's pool; close it only when that work is done.
      c.executionCtx.waitUntil(
        Promise.allSettled(deferred).then(() =>
          session
            .ifBuilt()
            ?.close()
            .catch(() => {}),
        ),
      );
    }
  });
