import path from "node:path";
import type { Reporter, TestModule } from "vitest/node";
import { ROOT } from "../stack/settings.ts";

/**
 * No test is skipped silently: after the run, every skipped test is listed with the reason it
 * gave (`context.skip(reason)`). In CI (CI=true) every test must run, so a skip fails the run.
 * A default export because Vitest loads reporters by file name.
 */
export default class SkipReport implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const skipped = testModules.flatMap((module) =>
      [...module.children.allTests("skipped")].map((test) => {
        const where = `${test.project.name}: ${path.relative(ROOT, module.moduleId)} > ${test.fullName}`;
        const result = test.result();
        return `  ${where}\n    why: ${(result.state === "skipped" && result.note) || "no reason given"}`;
      }),
    );
    if (skipped.length === 0) return;
    console.log(`\nSkipped ${skipped.length} test${skipped.length === 1 ? "" : "s"}:\n${skipped.join("\n")}\n`);
    if (process.env.CI === "true") {
      console.error("CI runs every test: the run fails because of the skipped tests above.");
      process.exitCode = 1;
    }
  }
}
