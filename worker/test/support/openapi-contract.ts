import type { OutputUnit, Schema } from "@cfworker/json-schema";

// Checks responses against the OpenAPI document, in workerd (the API tests) and in Node (the
// browser journey). It interprets schemas instead of compiling them, because workerd forbids
// `new Function`; and it imports nothing of either runtime, so both can load it.

/** A response as the client received it. */
export interface ObservedResponse {
  method: string;
  /** The request URL's path, as sent (still percent-encoded), without the query. */
  path: string;
  status: number;
  contentType: string | null;
  /** The body as text; read only when `contentType` is JSON. */
  body: () => Promise<string>;
}

interface MediaType {
  schema?: Schema;
}

interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}

interface Operation {
  operationId?: string;
  responses?: Record<string, ResponseObject | { $ref: string }>;
}

interface Route {
  template: string;
  pattern: RegExp;
  /** Literal segments: the more, the more specific when two templates match a path. */
  literals: number;
  operations: Record<string, Operation>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, Schema> };
}

/**
 * What a path no operation declares may answer: the app's not-found problem, and the problems of
 * what runs before routing (the request body limit, a broken configuration).
 */
const UNROUTED_STATUSES = new Set([404, 405, 413, 500]);
/** Statuses whose responses have no body; their Content-Type describes the resource, not a body. */
const BODILESS_STATUSES = new Set([204, 304]);
const MAX_SCHEMA_ERRORS = 5;
const MAX_ERROR_LENGTH = 200;
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/**
 * The JSON Schema library derives a default base URI from `self.location` when it loads. Inside
 * workerd's test runner the global `location` is a bare `{ href: "" }`, which makes that throw,
 * so the library is loaded with `location` hidden (schemas here always get an explicit base).
 */
async function loadJsonSchema() {
  const scope = globalThis as { location?: unknown };
  const location = scope.location;
  const bare = location !== undefined && !(location as { origin?: unknown }).origin;
  if (bare) scope.location = undefined;
  try {
    return await import("@cfworker/json-schema");
  } finally {
    if (bare) scope.location = location;
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileRoute(template: string, item: Record<string, unknown>): Route {
  const segments = template.split("/");
  const source = segments.map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : escapeRegExp(segment))).join("/");
  const operations: Record<string, Operation> = {};
  for (const method of HTTP_METHODS) {
    if (item[method]) operations[method] = item[method] as Operation;
  }
  return {
    template,
    pattern: new RegExp(`^${source}$`),
    literals: segments.filter((segment) => !segment.startsWith("{")).length,
    operations,
  };
}

function mediaTypeOf(contentType: string | null): string | null {
  return contentType?.split(";")[0]?.trim().toLowerCase() || null;
}

function isJson(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

/** The documented media type a response's type falls under: exact, `image/*` or `*\/*`. */
function documentedMediaType(content: Record<string, MediaType>, mediaType: string): string | undefined {
  const [type] = mediaType.split("/");
  return [mediaType, `${type}/*`, "*/*"].find((candidate) => content[candidate] !== undefined);
}

function describeErrors(errors: OutputUnit[]): string {
  // Each failing keyword is reported with the keywords around it; the innermost ones say what is wrong.
  const leaves = errors.filter((error) => !errors.some((other) => other.keywordLocation.startsWith(`${error.keywordLocation}/`)));
  return leaves
    .slice(0, MAX_SCHEMA_ERRORS)
    .map((error) => `${error.instanceLocation}: ${error.error.slice(0, MAX_ERROR_LENGTH)}`)
    .join("; ");
}

/**
 * Builds a checker for one OpenAPI 3.1 document. `check` returns why a response breaks the
 * document (its operation does not list the status or the content type, or the body does not
 * match the schema), or undefined when it conforms. A path that no operation declares may only
 * answer the app's 404/405 problem.
 */
export async function openApiContract(document: OpenApiDocument) {
  const { dereference, validate } = await loadJsonSchema();
  // Resolving `$ref`s annotates the schema objects, so work on a copy of the caller's document.
  const doc = structuredClone(document) as OpenApiDocument;
  const lookup = dereference(doc as unknown as Schema, Object.create(null), new URL("https://banatie.test/openapi.json"));
  const routes = Object.entries(doc.paths)
    .map(([template, item]) => compileRoute(template, item))
    .sort((a, b) => b.literals - a.literals);
  const problemSchema = doc.components?.schemas?.Problem;

  function resolve<T>(value: T | { $ref: string }): T {
    if (value && typeof value === "object" && "$ref" in value) {
      const pointer = value.$ref.replace(/^#\//, "").split("/");
      let target: unknown = doc;
      for (const part of pointer) target = (target as Record<string, unknown>)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
      return target as T;
    }
    return value;
  }

  async function checkBody(response: ObservedResponse, schema: Schema | undefined, mediaType: string) {
    if (!schema || !isJson(mediaType) || response.method.toUpperCase() === "HEAD") return undefined;
    const text = await response.body();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `its ${mediaType} body is not JSON: ${text.slice(0, 200)}`;
    }
    const result = validate(body, schema, "2020-12", lookup, false);
    return result.valid ? undefined : `its body does not match the documented schema: ${describeErrors(result.errors)}`;
  }

  async function checkUnrouted(response: ObservedResponse, request: string): Promise<string | undefined> {
    const mediaType = mediaTypeOf(response.contentType);
    if (!UNROUTED_STATUSES.has(response.status) || mediaType !== "application/problem+json") {
      return `${request} answered ${response.status} ${mediaType ?? "(no content type)"}, but no operation in the document has this path and method`;
    }
    const why = await checkBody(response, problemSchema, mediaType);
    return why ? `${request} answered ${response.status} (no such operation): ${why}` : undefined;
  }

  /** Why the response breaks the document, or undefined. */
  async function check(response: ObservedResponse): Promise<string | undefined> {
    const method = response.method.toLowerCase();
    const request = `${response.method.toUpperCase()} ${response.path}`;
    const route = routes.find((candidate) => candidate.pattern.test(response.path));
    // HEAD is answered by the GET handler, with the GET operation's statuses and headers.
    const operation = route?.operations[method] ?? (method === "head" ? route?.operations.get : undefined);
    if (!route || !operation) return checkUnrouted(response, request);

    const name = `${request} (${operation.operationId ?? "unnamed operation"}, ${method} ${route.template})`;
    const responses = operation.responses ?? {};
    const statusKey = [String(response.status), `${String(response.status)[0]}XX`, "default"].find((key) => responses[key]);
    if (!statusKey) {
      return `${name} answered ${response.status}, which the document does not list (documented: ${Object.keys(responses).join(", ")})`;
    }
    const documented = resolve(responses[statusKey] as ResponseObject);
    const content = documented.content ?? {};
    if (BODILESS_STATUSES.has(response.status)) return undefined;
    const mediaType = mediaTypeOf(response.contentType);
    if (!mediaType) {
      return Object.keys(content).length === 0 || method === "head"
        ? undefined
        : `${name} answered ${response.status} without a content type; documented: ${Object.keys(content).join(", ")}`;
    }
    const documentedType = documentedMediaType(content, mediaType);
    if (!documentedType) {
      const listed = Object.keys(content).join(", ") || "no body";
      return `${name} answered ${response.status} as ${mediaType}, which the document does not list for it (documented: ${listed})`;
    }
    const why = await checkBody(response, content[documentedType]?.schema, mediaType);
    return why ? `${name} answered ${response.status}, but ${why}` : undefined;
  }

  return { check };
}

export type OpenApiContract = Awaited<ReturnType<typeof openApiContract>>;
