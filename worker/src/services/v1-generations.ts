/**
 * Banatie v1 generations: which images a request names (its referenceImages, then the @aliases
 * of its prompt) and what they resolve to.
 */
import type { Database } from "../db/client";
import { aliasesInPrompt, type ReferenceSpec } from "../domain/aliases";
import { MAX_REFERENCES } from "../domain/limits";
import { AppError } from "../lib/errors";
import {
  assertFlowAliasFree,
  type ImageOwner,
  type Resolution,
  type ResolvedImage,
  referenceSpecs,
  resolveImageRefs,
} from "./aliases";
import type { GenerationReference } from "./generation";

/** The references a request names, parsed, before anything is read. */
export interface ReferencePlan {
  /** From `referenceImages`, in order: each must resolve. */
  explicit: ReferenceSpec[];
  /** The prompt's @aliases not named explicitly, in order: those that do not resolve are skipped. */
  fromPrompt: ReferenceSpec[];
}

/**
 * Parses the request's references: 400 ALIAS_FORMAT_CHECK naming a malformed entry, 400
 * TOO_MANY_REFERENCES for more than MAX_REFERENCES explicit ones. Nothing is read.
 */
export function planReferences(referenceImages: readonly string[], prompt: string): ReferencePlan {
  if (referenceImages.length > MAX_REFERENCES) {
    throw new AppError(
      "TOO_MANY_REFERENCES",
      `referenceImages: at most ${MAX_REFERENCES} images, got ${referenceImages.length}`,
      {
        errors: [{ field: "referenceImages", message: `at most ${MAX_REFERENCES} images` }],
      },
    );
  }
  const explicit = referenceSpecs(referenceImages.map((value, index) => [`referenceImages.${index}`, value]));
  const named = new Set(explicit.map((spec) => spec.spec));
  const fromPrompt = aliasesInPrompt(prompt)
    .filter((alias) => !named.has(alias))
    .map((alias) => ({ spec: alias, alias }));
  return { explicit, fromPrompt };
}

/** A reference chosen for a generation, with its image's stored size (for the quote and the frame). */
export type ChosenReference = GenerationReference & { image: ResolvedImage };

/** What a request's references and flow alias resolved to (one statement). */
export interface ResolvedPlan {
  plan: ReferencePlan;
  resolutions: (Resolution | null)[];
  flowAlias?: { alias: string; resolution: Resolution | null };
}

/**
 * Resolves the plan's references, and the flow alias to give (to see whether the flow has it),
 * in one statement: run it alongside the key check with the key's hash as owner.
 */
export async function resolvePlan(
  db: Database,
  owner: ImageOwner,
  plan: ReferencePlan,
  context: { flowId: string | null; flowAlias?: string },
): Promise<ResolvedPlan> {
  const flowAlias = context.flowAlias && context.flowId ? context.flowAlias : undefined;
  const specs = [...plan.explicit, ...plan.fromPrompt, ...(flowAlias ? [{ spec: flowAlias, alias: flowAlias }] : [])];
  const resolved = await resolveImageRefs(db, owner, specs, { flowId: context.flowId });
  const referenceCount = plan.explicit.length + plan.fromPrompt.length;
  return {
    plan,
    resolutions: resolved.slice(0, referenceCount),
    ...(flowAlias ? { flowAlias: { alias: flowAlias, resolution: resolved[referenceCount] ?? null } } : {}),
  };
}

/**
 * The images the model gets, in order: the explicit references (404 IMAGE_NOT_FOUND naming one
 * that resolves to nothing, another project's image included), then the prompt's aliases that
 * resolve, each image once. More than MAX_REFERENCES is 400 TOO_MANY_REFERENCES, naming those
 * that came from the prompt. A flow alias the flow already gives is 409 ALIAS_CONFLICT.
 */
export function chooseReferences({ plan, resolutions, flowAlias }: ResolvedPlan): ChosenReference[] {
  const missing = plan.explicit.flatMap((spec, index) => (resolutions[index] ? [] : [{ spec, index }]));
  if (missing.length > 0) {
    throw new AppError(
      "IMAGE_NOT_FOUND",
      missing.map(({ spec, index }) => `referenceImages.${index}: no image ${spec.spec} in this project`).join("; "),
      { errors: missing.map(({ spec, index }) => ({ field: `referenceImages.${index}`, message: `no image ${spec.spec}` })) },
    );
  }
  if (flowAlias) assertFlowAliasFree(flowAlias.alias, flowAlias.resolution);
  const chosen: ChosenReference[] = [];
  const seen = new Set<string>();
  for (const [index, resolution] of resolutions.entries()) {
    if (!resolution || seen.has(resolution.image.id)) continue;
    seen.add(resolution.image.id);
    const fromPrompt = index >= plan.explicit.length;
    chosen.push({
      spec: resolution.spec,
      alias: resolution.alias,
      image: resolution.image,
      resolvedVia: fromPrompt ? "prompt" : resolution.scope,
    });
  }
  if (chosen.length > MAX_REFERENCES) {
    const prompted = chosen.filter((reference) => reference.resolvedVia === "prompt").map((reference) => reference.spec);
    throw new AppError(
      "TOO_MANY_REFERENCES",
      `At most ${MAX_REFERENCES} reference images; with the prompt's ${prompted.join(", ")} there are ${chosen.length}`,
      { errors: [{ field: "prompt", message: `names ${prompted.join(", ")} beyond the ${MAX_REFERENCES} references allowed` }] },
    );
  }
  return chosen;
}
