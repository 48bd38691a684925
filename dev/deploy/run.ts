import { spawn } from "node:child_process";
import { ROOT } from "../stack/settings.ts";
import { QUIET_ENV } from "../stack/wrangler.ts";

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool from the repository root (npm puts node_modules/.bin on PATH) and collects its output. */
export function runQuiet(command: string, args: string[], env: NodeJS.ProcessEnv = QUIET_ENV): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a tool from the repository root with its output on the terminal; resolves with its exit code. */
export function runInTerminal(command: string, args: string[], env: NodeJS.ProcessEnv = QUIET_ENV): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** What a failed tool said: wrangler's error lines (marked ✘ or [ERROR]), else its last line. */
export function toolError(result: CommandResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const errors = lines.filter((line) => /✘|\[ERROR\]/.test(line));
  return (errors.length > 0 ? errors : lines.slice(-1)).join(" ") || `exited with ${result.code}`;
}
