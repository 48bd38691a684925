/** One line of the deploy checklist. */
export interface CheckResult {
  name: string;
  /** `skip` is not a gap: the check does not apply (e.g. no DATABASE_URL to compare with). */
  status: "pass" | "fail" | "skip";
  detail: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, status: "fail", detail });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });

const MARKS = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

export function formatChecklist(results: CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  return results.map((result) => `  ${MARKS[result.status]}  ${result.name.padEnd(width)}  ${result.detail}`).join("\n");
}

export function hasGaps(results: CheckResult[]): boolean {
  return results.some((result) => result.status === "fail");
}
