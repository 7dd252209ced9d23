import type { Database } from "better-sqlite3";
import { KnockerError } from "../errors.js";
import { immediateTransaction } from "./database.js";

/** Bumped whenever the layout changes; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 2;

/**
 * Finds a queue's jobs by event id. Partial on json_valid(): Honker tooling may put payloads that
 * are not JSON on other queues of the same file, and json_extract() would refuse those rows.
 * Queries must repeat `json_valid(payload)` to use it.
 */
const EVENT_JOB_INDEX = `CREATE INDEX IF NOT EXISTS _honker_live_event_v2
  ON _honker_live(queue, json_extract(payload, '$.event_id')) WHERE json_valid(payload);`;

// Table and column names are the shared Knocker/Honker contract: other bindings and Honker
// tooling read the same file, so they must not drift.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS knocker_endpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE NOT NULL,
  path TEXT UNIQUE NOT NULL,
  provider TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS knocker_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id INTEGER NOT NULL REFERENCES knocker_endpoints(id),
  received_at INTEGER NOT NULL,
  provider_event_id TEXT,
  provider_delivery_id TEXT,
  event_type TEXT,
  method TEXT NOT NULL,
  headers_json TEXT NOT NULL,
  body_blob BLOB NOT NULL,
  query_json TEXT NOT NULL,
  dedupe_key TEXT,
  status TEXT NOT NULL DEFAULT 'received'
    CHECK (status IN ('received', 'processing', 'handled', 'failed', 'dead', 'ignored')),
  attempt_count INTEGER NOT NULL DEFAULT 0,
  handled_at INTEGER,
  last_error TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS knocker_events_dedupe
  ON knocker_events(endpoint_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS knocker_events_status_received ON knocker_events(status, received_at);
CREATE INDEX IF NOT EXISTS knocker_events_received ON knocker_events(received_at);

CREATE TABLE IF NOT EXISTS knocker_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id INTEGER NOT NULL REFERENCES knocker_endpoints(id),
  event_id INTEGER REFERENCES knocker_events(id),
  received_at INTEGER NOT NULL,
  provider_event_id TEXT,
  provider_delivery_id TEXT,
  event_type TEXT,
  method TEXT NOT NULL,
  headers_json TEXT NOT NULL,
  body_blob BLOB NOT NULL,
  query_json TEXT NOT NULL,
  signature_valid INTEGER,
  signature_error TEXT,
  dedupe_key TEXT
);
CREATE INDEX IF NOT EXISTS knocker_deliveries_event ON knocker_deliveries(event_id);
CREATE INDEX IF NOT EXISTS knocker_deliveries_received ON knocker_deliveries(received_at);
CREATE INDEX IF NOT EXISTS knocker_deliveries_orphans ON knocker_deliveries(received_at) WHERE event_id IS NULL;

CREATE TABLE IF NOT EXISTS knocker_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL REFERENCES knocker_events(id) ON DELETE CASCADE,
  attempted_at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('handled', 'failed', 'dead', 'ignored')),
  error TEXT,
  duration_ms INTEGER
);
CREATE INDEX IF NOT EXISTS knocker_attempts_event ON knocker_attempts(event_id);

CREATE TABLE IF NOT EXISTS knocker_prune_audits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('prune_events', 'prune_orphan_deliveries')),
  queue_name TEXT NOT NULL,
  executed_at INTEGER NOT NULL,
  events_pruned INTEGER NOT NULL DEFAULT 0,
  deliveries_pruned INTEGER NOT NULL DEFAULT 0,
  attempts_pruned INTEGER NOT NULL DEFAULT 0,
  live_jobs_pruned INTEGER NOT NULL DEFAULT 0,
  summary_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS knocker_prune_audits_executed ON knocker_prune_audits(executed_at);

CREATE TABLE IF NOT EXISTS _honker_live (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processing')),
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  worker_id TEXT,
  claim_expires_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS _honker_live_claim
  ON _honker_live(queue, priority DESC, run_at, id) WHERE state IN ('pending', 'processing');
-- Keep "when is the next job due" and "which claims expired" O(log n) at any backlog.
CREATE INDEX IF NOT EXISTS _honker_live_pending_due ON _honker_live(queue, run_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS _honker_live_claim_expiry ON _honker_live(queue, claim_expires_at) WHERE state = 'processing';
${EVENT_JOB_INDEX}

CREATE TABLE IF NOT EXISTS _honker_dead (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  last_error TEXT,
  created_at INTEGER,
  died_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS _honker_locks (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS _honker_scheduler_tasks (
  name TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  cron_expr TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  expires_s INTEGER,
  next_fire_at INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  max_attempts INTEGER NOT NULL DEFAULT 3
);
`;

/** From each older version to the next. */
const MIGRATIONS: Record<number, string> = {
  1: `DROP INDEX IF EXISTS _honker_live_event; ${EVENT_JOB_INDEX}`,
};

/**
 * Create, migrate or check the layout. A file already at this version is only read, so opening
 * it never waits for the write lock (an operator's read beside a busy writer). Otherwise the
 * work runs under BEGIN IMMEDIATE so processes opening a new file at the same moment
 * serialise: the first creates, the others find the version already set.
 */
export function bootstrapSchema(db: Database): void {
  if (checkedVersion(db) === SCHEMA_VERSION) return;
  immediateTransaction(db, "schema bootstrap", () => {
    let version = checkedVersion(db);
    if (version === SCHEMA_VERSION) return;
    if (version === 0) {
      db.exec(SCHEMA);
      version = SCHEMA_VERSION;
    }
    for (; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

/**
 * The recorded version. `PRAGMA user_version` belongs to whoever owns the file, so an app that
 * uses it for its own migrations and shares its connection with Knocker gets a clear error
 * instead of a half-created or wrongly migrated schema.
 */
function checkedVersion(db: Database): number {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new KnockerError(
      "ERR_STORAGE",
      `database schema version ${version} is newer than this release of knocker supports (${SCHEMA_VERSION}): upgrade knocker, ` +
        "or, if your app uses PRAGMA user_version for its own schema, give Knocker a database file of its own",
    );
  }
  if (version > 0 && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_honker_live'").get() === undefined) {
    throw new KnockerError(
      "ERR_STORAGE",
      `PRAGMA user_version is ${version} but the file has no Knocker tables: your app uses user_version for its own schema; ` +
        "give Knocker a database file of its own",
    );
  }
  return version;
}
