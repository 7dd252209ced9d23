import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const dirs: string[] = [];

/** A fresh directory for this test file, removed when the file's tests end. */
export function tempDir(prefix = "knocker-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (dirs.length === 0) after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  dirs.push(dir);
  return dir;
}

/** A path for a new SQLite file on disk. */
export function tempDbPath(name = "knocker.db"): string {
  return join(tempDir(), name);
}
