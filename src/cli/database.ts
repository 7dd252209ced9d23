import { statSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { open, type Knocker } from "../knocker.js";
import { parseInteger, Refusal, stringOption, UsageError, type ParsedArgs } from "./args.js";

export interface InboxSettings {
  path: string;
  queueName: string;
  maxAttempts: number;
}

/** --db / --queue / --max-attempts, then their environment variables, then the library's defaults. */
export function inboxSettings(values: ParsedArgs["values"], env: NodeJS.ProcessEnv): InboxSettings {
  const path = stringOption(values, "db") ?? nonEmpty(env.KNOCKER_DB) ?? "knocker.db";
  const queueName = stringOption(values, "queue") ?? nonEmpty(env.KNOCKER_QUEUE) ?? "knocker.events";
  if (queueName.length === 0) throw new UsageError("--queue must not be empty");
  const attempts = stringOption(values, "max-attempts") ?? nonEmpty(env.KNOCKER_MAX_ATTEMPTS) ?? "3";
  return { path, queueName, maxAttempts: parseInteger(attempts, "max-attempts", 1, 1000) };
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

/**
 * Open an existing Knocker file. A missing file or one without Knocker's tables is a usage error
 * (a mistyped --db must not create a new inbox, nor add Knocker's tables to another app's file).
 * The file is only ever touched through SQLite: `fs.stat` is the one file-system call.
 */
export function openInbox({ path, queueName, maxAttempts }: InboxSettings): Knocker {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UsageError(`no database at ${path} (pass --db PATH or set KNOCKER_DB)`);
  }
  if (!isFile) throw new UsageError(`${path} is not a file (pass --db PATH or set KNOCKER_DB)`);
  let isInbox: boolean;
  try {
    const probe = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    try {
      isInbox = probe.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'knocker_events'").get() !== undefined;
    } finally {
      probe.close();
    }
  } catch (error) {
    throw unwritableFolder(path, error) ?? new UsageError(`${path} is not a readable SQLite database: ${(error as Error).message}`);
  }
  if (!isInbox) throw new UsageError(`${path} is not a Knocker database (it has no knocker_events table)`);
  try {
    return open(path, { queueName, maxAttempts, maxReaders: 1 });
  } catch (error) {
    throw unwritableFolder(path, error) ?? error;
  }
}

/**
 * A WAL database needs its `-shm` (the shared-memory index) and `-wal` files next to it, and
 * SQLite creates them when the first connection opens the file — even a read-only connection.
 * In a folder this user cannot write, that fails with SQLITE_READONLY_DIRECTORY ("attempt to
 * write a readonly database"), which blames the database; name the file SQLite could not create.
 */
function unwritableFolder(path: string, error: unknown): Refusal | undefined {
  if ((error as { code?: unknown }).code !== "SQLITE_READONLY_DIRECTORY") return undefined;
  const folder = dirname(path);
  // fs.stat only: it opens no file descriptor, so it cannot disturb SQLite's locks.
  const exists = (file: string) => {
    try {
      statSync(file);
      return true;
    } catch {
      return false;
    }
  };
  const missing = exists(`${path}-shm`) ? `${path}-wal` : `${path}-shm`;
  return new Refusal(
    `cannot create ${missing} (SQLite's ${missing.endsWith("-shm") ? "shared-memory index" : "write-ahead log"}, ` +
      `kept next to the database while it is open): ${folder === "." ? "the current folder" : `the folder ${folder}`} is not ` +
      "writable by this user; make it writable, or work on a copy of the database in a writable folder",
  );
}
