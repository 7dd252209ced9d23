import { statSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { KnockerError } from "../errors.js";
import { open, type Knocker } from "../knocker.js";
import { connectPostgres, inspectSchema, type PgConnection, type SchemaFacts } from "../store/postgres/inspect.js";
import { parseInteger, Refusal, stringOption, UsageError, type ParsedArgs } from "./args.js";
import { inboxTarget, redactUrl, type InboxTarget, type PostgresTarget, type SchemaChoice } from "./targets.js";

export interface InboxSettings {
  target: InboxTarget;
  queueName: string;
  maxAttempts: number;
}

/** --db / --schema / --queue / --max-attempts, then their environment variables, then the library's defaults. */
export function inboxSettings(values: ParsedArgs["values"], env: NodeJS.ProcessEnv): InboxSettings {
  const given = stringOption(values, "db");
  const fromEnv = nonEmpty(env.KNOCKER_DB);
  const db = given ?? fromEnv ?? "knocker.db";
  const option = given !== undefined ? "--db" : fromEnv !== undefined ? "$KNOCKER_DB" : "the default --db";
  const target = inboxTarget(db, option, schemaChoice(values, env));
  const queueName = stringOption(values, "queue") ?? nonEmpty(env.KNOCKER_QUEUE) ?? "knocker.events";
  if (queueName.length === 0) throw new UsageError("--queue must not be empty");
  const attempts = stringOption(values, "max-attempts") ?? nonEmpty(env.KNOCKER_MAX_ATTEMPTS) ?? "3";
  return { target, queueName, maxAttempts: parseInteger(attempts, "max-attempts", 1, 1000) };
}

/** --schema, else $KNOCKER_SCHEMA (a Postgres database's schema). */
export function schemaChoice(values: ParsedArgs["values"], env: NodeJS.ProcessEnv): SchemaChoice | undefined {
  const given = stringOption(values, "schema");
  if (given !== undefined) return { name: given, from: "--schema" };
  const fromEnv = nonEmpty(env.KNOCKER_SCHEMA);
  return fromEnv === undefined ? undefined : { name: fromEnv, from: "$KNOCKER_SCHEMA" };
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

/**
 * Open an existing inbox. A missing file or database, or one without Knocker's tables, is a usage
 * error: a mistyped --db must not create a new inbox, nor add Knocker's tables to another app's
 * file or schema. A SQLite file is only ever touched through SQLite (`fs.stat` is the one
 * file-system call); a Postgres schema is looked up in the catalog before open() may bootstrap it.
 */
export async function openInbox({ target, queueName, maxAttempts }: InboxSettings): Promise<Knocker> {
  if (target.engine === "postgres") {
    const facts = await probePostgres(target, "pass --db URL or set KNOCKER_DB");
    requireInbox(target, facts, "pass --schema NAME or set KNOCKER_SCHEMA");
    return open(target.url, { queueName, maxAttempts, schema: target.schema });
  }
  const { path } = target;
  probeSqlite(path, "pass --db PATH or set KNOCKER_DB");
  try {
    return open(path, { queueName, maxAttempts, maxReaders: 1 });
  } catch (error) {
    throw unwritableFolder(path, error) ?? error;
  }
}

/** An existing SQLite file with Knocker's tables, else a usage error (`hint`: how to name another). */
export function probeSqlite(path: string, hint: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new UsageError(`no database at ${path} (${hint})`);
  }
  if (!isFile) throw new UsageError(`${path} is not a file (${hint})`);
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
}

/** What the target's schema holds, on a connection of its own that is closed again. */
export async function probePostgres(target: PostgresTarget, hint: string): Promise<SchemaFacts> {
  const client = await connectTo(target, hint);
  try {
    return await inspectSchema(client, target.schema);
  } catch (error) {
    throw new Refusal(`cannot read ${redactUrl(target.url)}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A usage error unless the schema holds a Knocker inbox. */
export function requireInbox(target: PostgresTarget, facts: SchemaFacts, hint: string): void {
  const where = redactUrl(target.url);
  if (!facts.exists) throw new UsageError(`no schema "${target.schema}" in ${where} (${hint})`);
  if (!facts.tables.includes("knocker_events")) throw new UsageError(`schema "${target.schema}" in ${where} is not a Knocker inbox (it has no knocker_events table)`);
}

/**
 * A connected client, or one line saying why not: a database that does not exist is a usage error
 * (like a missing file), a server that cannot be reached or refuses the login a refusal.
 */
export async function connectTo(target: PostgresTarget, hint: string): Promise<PgConnection> {
  try {
    return await connectPostgres(target.url);
  } catch (error) {
    const where = redactUrl(target.url);
    const detail = (error as Error).message || String(error);
    if ((error as { code?: unknown }).code === "3D000") throw new UsageError(`no database at ${where}: ${detail} (${hint})`);
    if (error instanceof KnockerError) throw error; // ERR_DEPENDENCY_MISSING: pg is not installed
    throw new Refusal(`cannot connect to Postgres at ${where}: ${detail}`);
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
