import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { basename } from "node:path";

/**
 * Every SQLite library carries this string (the first 16 bytes of each database file it
 * writes), so it tells an SQLite build apart from any other shared object.
 */
const SQLITE_MARKER = Buffer.from("SQLite format 3\0", "latin1");
const CHUNK_BYTES = 1 << 20;

/** Shared objects worth scanning: native addons (which may link SQLite in) and SQLite's own libraries. */
const CANDIDATE = /\.node$|sqlite|sqlcipher/i;

const scanned = new Map<string, boolean>();
let warned = false;

/**
 * The files of the SQLite libraries mapped into this process, from /proc/self/maps (Linux
 * only; elsewhere an empty list). Node's own binary is left out: on Node 22+ it carries
 * node:sqlite, which only matters if the app uses it on the same file, and is not loaded as a
 * separate object.
 */
export function loadedSqliteLibraries(): string[] {
  let maps: string;
  try {
    maps = readFileSync("/proc/self/maps", "utf8");
  } catch {
    return [];
  }
  const files = new Set<string>();
  for (const line of maps.split("\n")) {
    const slash = line.indexOf("/");
    if (slash === -1) continue;
    const file = line.slice(slash);
    if (!file.endsWith(" (deleted)") && CANDIDATE.test(basename(file))) files.add(file);
  }
  return [...files].filter(containsSqlite);
}

function containsSqlite(file: string): boolean {
  let found = scanned.get(file);
  if (found === undefined) {
    found = scan(file);
    scanned.set(file, found);
  }
  return found;
}

function scan(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return false;
  }
  try {
    // Chunks overlap by the marker's length so a marker across a boundary is still found.
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES + SQLITE_MARKER.length);
    let kept = 0;
    let position = 0;
    for (;;) {
      const read = readSync(fd, buffer, kept, CHUNK_BYTES, position);
      if (read === 0) return false;
      position += read;
      const filled = kept + read;
      if (buffer.subarray(0, filled).includes(SQLITE_MARKER)) return true;
      kept = Math.min(SQLITE_MARKER.length - 1, filled);
      buffer.copy(buffer, 0, filled - kept, filled);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Warn once per process when more than one SQLite library is loaded. If two copies open the same
 * database file, closing the last connection of one deletes the `-wal` and `-shm` files under the
 * other (each copy keeps its own list of POSIX locks), and the other's later commits are lost.
 */
export function warnIfSeveralSqliteCopies(libraries: string[] = loadedSqliteLibraries()): boolean {
  if (warned || libraries.length < 2) return false;
  warned = true;
  process.emitWarning(
    `this process has loaded ${libraries.length} copies of SQLite: ${libraries.join(", ")}. ` +
      "If two copies open the same database file, closing the last connection of one deletes the other's WAL, " +
      "and that copy's later commits are silently lost. Load one copy: dedupe better-sqlite3 (npm ls better-sqlite3; " +
      "npm dedupe, or an override), or pass your app's own better-sqlite3 Database to knocker's open(), " +
      "and keep other SQLite engines off the inbox file or in another process.",
    { type: "KnockerWarning", code: "KNOCKER_SQLITE_COPIES" },
  );
  return true;
}
