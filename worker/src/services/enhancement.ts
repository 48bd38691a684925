import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { apiKeys, promptCache } from "../db/schema";
import type { Template } from "../domain/catalog";
import { sha256Hex } from "../domain/hash";
import type { TokenCounts } from "../domain/pricing";
import type { ReferenceLabel } from "../domain/references";
import type { ProjectCaller } from "../lib/access-types";
import { AppError } from "../lib/errors";
import type { EnhancedPrompt, PromptEnhancer } from "../providers/prompt-enhancer";
import { enhancerProvider, type ModelCall, NO_TOKENS, recordUsage, usageEventRows } from "./usage";

export interface Enhancement extends EnhancedPrompt {
  originalPrompt: string;
  template: Template;
  enhancer: PromptEnhancer["enhancer"];
  model: string;
  /** Served from the prompt cache: the text model was not called. */
  cached: boolean;
}

/** Case, Unicode form and spacing do not change what a prompt asks for. */
export function normalizePrompt(prompt: string): string {
  return prompt.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase();
}

/**
 * The prompt cache's key. References change what an enhancement must say (an edit of them, not a
 * new scene), so their count and labels are part of it; without any the key is what it always
 * was, and existing entries still hit.
 */
function cacheKey(prompt: string, template: Template, model: string, references: readonly ReferenceLabel[]): Promise<string> {
  const parts: string[] = [normalizePrompt(prompt), template, model];
  if (references.length > 0) parts.push(`refs:${references.length}|${references.map(({ label }) => label ?? "").join("|")}`);
  return sha256Hex(JSON.stringify(parts));
}

/** What the prompt cache holds for one prompt: its entry's hash, and the enhancement if cached. */
export interface PromptCacheLookup {
  hash: string;
  hit: EnhancedPrompt | undefined;
}

/**
 * Reads the prompt cache of the project of the key whose hash is given, so that it can run
 * alongside the key's authentication instead of after it (one round trip for both); the result
 * is only used once the key is authorized. Resolves to null, reading nothing, when the enhancer
 * is the offline template one, which is not cached.
 */
export async function lookUpPromptCache(
  deps: { db: Database; enhancer: PromptEnhancer },
  keyHash: string,
  prompt: string,
  template: Template,
  references: readonly ReferenceLabel[] = [],
): Promise<PromptCacheLookup | null> {
  if (deps.enhancer.enhancer === "template") return null;
  const hash = await cacheKey(prompt, template, deps.enhancer.model, references);
  const [hit] = await deps.db
    .select({ result: promptCache.result })
    .from(promptCache)
    .innerJoin(apiKeys, eq(apiKeys.projectId, promptCache.projectId))
    .where(and(eq(apiKeys.keyHash, keyHash), eq(promptCache.hash, hash)));
  return { hash, hit: hit?.result as EnhancedPrompt | undefined };
}

/**
 * Enhances a prompt for a project. Text-model enhancements are cached in `prompt_cache` per
 * project by normalized prompt, template and model, so a repeated prompt costs one indexed read
 * (made alongside authentication when the caller passes `lookup`) instead of a model call, and
 * no project learns from a hit what another one prompted; the offline template enhancer is
 * cheaper than the cache and is not cached. Counting a hit and keeping a new entry wait for
 * nobody: they run after the response. `references` are the images the image model will get
 * (a `lookup` passed along must have been made with the same ones).
 */
export async function enhancePrompt(
  deps: { db: Database; enhancer: PromptEnhancer; defer: (task: () => Promise<unknown>) => void },
  projectId: string,
  prompt: string,
  template: Template,
  lookup?: PromptCacheLookup | null,
  references: readonly ReferenceLabel[] = [],
): Promise<Enhancement> {
  const { db, enhancer } = deps;
  const base = { originalPrompt: prompt, template, enhancer: enhancer.enhancer, model: enhancer.model };
  const request = { prompt, template, references };
  if (enhancer.enhancer === "template") return { ...base, ...(await enhancer.enhance(request)), cached: false };

  const { hash, hit } =
    lookup ?? (await lookUpProjectCache(db, projectId, await cacheKey(prompt, template, enhancer.model, references)));
  const entry = and(eq(promptCache.projectId, projectId), eq(promptCache.hash, hash));
  if (hit) {
    deps.defer(() =>
      db
        .update(promptCache)
        .set({ hits: sql`${promptCache.hits} + 1`, lastHitAt: sql`now()` })
        .where(entry),
    );
    return { ...base, ...hit, cached: true };
  }

  // What the call used belongs to this request only; the cache keeps the enhancement.
  const { usage, tokens, ...result } = await enhancer.enhance(request);
  deps.defer(() =>
    db.insert(promptCache).values({ projectId, hash, template, enhancerModel: enhancer.model, result }).onConflictDoNothing(),
  );
  return { ...base, ...result, usage, tokens, cached: false };
}

/**
 * The enhancer call behind an enhancement, to be recorded as usage, or null for a prompt-cache
 * hit: a hit calls no model and costs nothing, so it records no event.
 */
export function enhancementCall(enhancement: Enhancement): ModelCall | null {
  if (enhancement.cached) return null;
  return enhancerCall(enhancement, enhancement.tokens ?? NO_TOKENS, false);
}

/** The enhancer call behind a failure the provider charged for, or null when it charged nothing. */
export function failedEnhancementCall(enhancer: PromptEnhancer, error: unknown): ModelCall | null {
  if (!(error instanceof AppError) || !error.chargedTokens) return null;
  return enhancerCall(enhancer, error.chargedTokens, true);
}

function enhancerCall(enhancer: Pick<PromptEnhancer, "enhancer" | "model">, tokens: TokenCounts, failed: boolean): ModelCall {
  return { kind: "enhancement", provider: enhancerProvider(enhancer.enhancer), model: enhancer.model, tokens, failed };
}

/**
 * An enhancement on its own (POST /api/enhance): its text-model call is recorded as usage with
 * no generation, after the response like the prompt-cache entry (a write of its own, not one
 * more round trip before the answer). A failed call the provider charged for is recorded too,
 * not billable.
 */
export async function enhanceForCaller(
  deps: { db: Database; enhancer: PromptEnhancer; defer: (task: () => Promise<unknown>) => void; billingExport: boolean },
  caller: ProjectCaller,
  prompt: string,
  template: Template,
  lookup?: PromptCacheLookup | null,
): Promise<Enhancement> {
  const record = (call: ModelCall | null, succeeded: boolean) => {
    if (call) {
      const rows = usageEventRows(caller, null, [call], succeeded);
      deps.defer(() => recordUsage(deps.db, rows, { queueForBilling: deps.billingExport }));
    }
  };
  try {
    const enhancement = await enhancePrompt(deps, caller.project.id, prompt, template, lookup);
    record(enhancementCall(enhancement), true);
    return enhancement;
  } catch (error) {
    record(failedEnhancementCall(deps.enhancer, error), false);
    throw error;
  }
}

async function lookUpProjectCache(db: Database, projectId: string, hash: string): Promise<PromptCacheLookup> {
  const [hit] = await db
    .select({ result: promptCache.result })
    .from(promptCache)
    .where(and(eq(promptCache.projectId, projectId), eq(promptCache.hash, hash)));
  return { hash, hit: hit?.result as EnhancedPrompt | undefined };
}
