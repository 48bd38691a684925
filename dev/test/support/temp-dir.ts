import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A fresh folder PostgreSQL's `postgres` user can enter (mkdtemp makes 0700 folders). */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `banatie-${prefix}-`));
  await chmod(dir, 0o755);
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
