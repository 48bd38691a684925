import type { ApiKeyType } from "../domain/api-key";

/** Who may call an endpoint; every endpoint declares one (deny by default). */
export type AccessPolicy =
  | { kind: "public" }
  /** Any valid key, master or project (the caller's own information). */
  | { kind: "any-key" }
  | { kind: "master" }
  | { kind: "project"; rateLimited: boolean };

export interface QuotaState {
  limit: number;
  /** Requests counted in the current window, this one included when it was spent. */
  used: number;
  windowStart: Date;
  resetAt: Date;
}

/** The authenticated key behind a request. */
export interface Caller {
  keyId: string;
  type: ApiKeyType;
  name: string;
  prefix: string;
  organization: { id: string; slug: string } | null;
  project: { id: string; slug: string } | null;
  quota: QuotaState;
  /** Monthly budgets in USD micros, null where none is set; spending is checked only when one is. */
  budgets: { key: number | null; project: number | null };
}

export type ProjectCaller = Caller & { organization: { id: string; slug: string }; project: { id: string; slug: string } };

/** Whom a generation is made for: what its rows and storage keys name (a queued one has no request). */
export type GenerationOwner = Pick<ProjectCaller, "keyId" | "organization" | "project">;
