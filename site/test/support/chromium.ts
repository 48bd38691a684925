import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sparticuz, { inflate } from "@sparticuz/chromium";

/** Where a system Chromium lives when one is installed (Debian's `apt-get install chromium`). */
export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** A Chromium to launch: its executable, where it came from, and the environment it needs. */
export interface ChromiumBinary {
  executablePath: string;
  source: "CHROMIUM_PATH" | "system" | "npm";
  /** Added to the browser's environment. */
  env: Record<string, string>;
}

export interface ChromiumChoice {
  /** CHROMIUM_PATH, if set. */
  override?: string;
  /** System paths tried in order; none means "behave as on a machine without a system Chromium". */
  systemPaths: string[];
}

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH, else the system's, else the one from
 * npm (@sparticuz/chromium), which needs nothing installed by hand.
 */
export async function findChromium(
  choice: ChromiumChoice = { override: process.env.CHROMIUM_PATH, systemPaths: [SYSTEM_CHROMIUM] },
): Promise<ChromiumBinary> {
  if (choice.override) return { executablePath: choice.override, source: "CHROMIUM_PATH", env: {} };
  const system = choice.systemPaths.find((candidate) => existsSync(candidate));
  if (system) return { executablePath: system, source: "system", env: {} };
  return npmChromium();
}

/**
 * The npm build unpacks into the temp folder on first use. It links against NSS and expat,
 * which a bare Debian lacks, so the copies it ships (built for Amazon Linux, which it only
 * unpacks there) are unpacked too and put first on the library path; with them it needs only
 * glibc. Its fonts come along the same way.
 */
async function npmChromium(): Promise<ChromiumBinary> {
  const executablePath = await sparticuz.executablePath();
  const bin = path.join(path.dirname(fileURLToPath(import.meta.resolve("@sparticuz/chromium"))), "..", "bin");
  const libraries = await inflate(path.join(bin, "al2023.tar.br"));
  return {
    executablePath,
    source: "npm",
    env: {
      LD_LIBRARY_PATH: path.join(libraries, "lib"),
      FONTCONFIG_PATH: path.join(tmpdir(), "fonts"),
    },
  };
}
