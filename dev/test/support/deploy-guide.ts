import { readFileSync } from "node:fs";
import path from "node:path";

// Not dev/stack/settings.ts's ROOT: Worker tests import this file under the Worker's types.
const ROOT = path.resolve(import.meta.dirname, "../../..");

/** The deploy guide (site/src/pages/docs/deploy.md), which several tests hold to the code. */
export function readDeployGuide(): string {
  return readFileSync(path.join(ROOT, "site/src/pages/docs/deploy.md"), "utf8");
}

/** The `.dev.vars` the deploy guide tells Docker users to write, as `KEY=value` pairs. */
export function dockerRecipeVars(): Record<string, string> {
  const block = readDeployGuide().match(/cat > \.dev\.vars <<'VARS'\n([\s\S]*?)\nVARS/)?.[1];
  if (!block) throw new Error("deploy.md has no `cat > .dev.vars <<'VARS'` recipe");
  return Object.fromEntries(block.split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}
