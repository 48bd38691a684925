import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../src");

/**
 * The dependency order of worker/src (STYLE.md): a folder may import its own layer and the ones
 * below it, never one above. Files at the root of worker/src (app.ts, index.ts, ...) assemble
 * the Workers and sit on top, except config.ts, which everything reads.
 */
const LAYERS: string[][] = [
  ["(root)"],
  ["routes"],
  // Image serving answers requests as routes do (the request context, the edge cache, lookups
  // through services); nothing below it needs it.
  ["delivery"],
  ["middleware"],
  ["services"],
  ["providers", "storage", "images", "rate-limit"],
  ["lib"],
  ["db", "domain", "config"],
];

/**
 * Upward imports already known, each with the issue item that removes it. The test fails when
 * one of them is gone, so the list only shrinks.
 */
const KNOWN_UPWARD_IMPORTS: Record<string, string> = {};

/** Relative imports of a module: static, side-effect, re-exports and dynamic ones. */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The folder a file of worker/src belongs to, as LAYERS names it. */
function folderOf(relative: string): string {
  const [first = "", ...rest] = relative.split("/");
  if (rest.length > 0) return first;
  return first === "config.ts" ? "config" : "(root)";
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** The file an import names: `./x` is `x.ts` or the folder `x/index.ts`; `./x.ts` and `./x.json` are themselves. */
function resolveModule(target: string): string {
  if (existsSync(`${target}.ts`)) return `${target}.ts`;
  if (existsSync(path.join(target, "index.ts"))) return path.join(target, "index.ts");
  return target;
}

/** Every import of one module of worker/src by another, as paths relative to worker/src. */
function sourceImports(): { from: string; to: string }[] {
  return sourceFiles(SRC).flatMap((file) => {
    const from = path.relative(SRC, file);
    return [...readFileSync(file, "utf8").matchAll(IMPORT)].flatMap(([, specifier = ""]) => {
      const to = path.relative(SRC, resolveModule(path.resolve(path.dirname(file), specifier)));
      // package.json and other files outside worker/src are not modules of the Worker.
      return to.startsWith("..") ? [] : [{ from, to }];
    });
  });
}

/** The first import cycle found, as the modules around it, or null when there is none. */
function findCycle(imports: { from: string; to: string }[]): string[] | null {
  const next = Map.groupBy(imports, ({ from }) => from);
  const done = new Set<string>();
  const trail: string[] = [];
  const visit = (module: string): string[] | null => {
    if (trail.includes(module)) return [...trail.slice(trail.indexOf(module)), module];
    if (done.has(module)) return null;
    trail.push(module);
    for (const { to } of next.get(module) ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    trail.pop();
    done.add(module);
    return null;
  };
  for (const module of next.keys()) {
    const cycle = visit(module);
    if (cycle) return cycle;
  }
  return null;
}

describe("worker/src layers", () => {
  const imports = sourceImports();
  const crossFolder = imports.filter(({ from, to }) => folderOf(from) !== folderOf(to));

  it("finds the imports it checks", () => {
    expect(crossFolder.length).toBeGreaterThan(100);
    expect(crossFolder).toContainEqual({ from: "routes/text-to-image/text-to-image.handlers.ts", to: "services/generation.ts" });
  });

  it("gives every folder a layer", () => {
    const folders = new Set(sourceFiles(SRC).map((file) => folderOf(path.relative(SRC, file))));
    expect([...folders].filter((folder) => layerOf(folder) === -1)).toEqual([]);
  });

  it("has no lower folder importing a higher one", () => {
    const upward = crossFolder
      .filter(({ from, to }) => layerOf(folderOf(to)) < layerOf(folderOf(from)))
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(upward.filter((edge) => !(edge in KNOWN_UPWARD_IMPORTS))).toEqual([]);
    // A known exception that is gone must leave the list.
    expect(Object.keys(KNOWN_UPWARD_IMPORTS).filter((edge) => !upward.includes(edge))).toEqual([]);
  });

  it("has no import cycle, inside a folder or across folders", () => {
    expect(findCycle(imports)).toBeNull();
  });
});
