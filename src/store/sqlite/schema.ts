import type { Database } from "better-sqlite3";
import { KnockerError } from "../../errors.js";
import { immediateTransaction } from "./connection.js";
import { UNSETTLED_STATUSES } from "../ranges.js";
import { UNSETTLED_KEYED } from "../ordering.js";

/** Bumped whenever the layout changes; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 7;

/**
 * Finds a queue's jobs by event id. Partial on json_valid(): Honker tooling may put payloads that
 * are not JSON on other queues of the same file, and json_extract() would refuse those rows.
 * Queries must repeat `json_valid(payload)` to use it.
 */
const EVENT_JOB_INDEX = `CREATE INDEX IF NOT EXISTS _honker_live_event_v2
  ON _honker_live(queue, json_extract(payload, '$.event_id')) WHERE json_valid(payload);`;

/**
 * The second identity of events whose provider does not sign their id or type (SHA-256 of the
 * signed body): a replayed body is a duplicate whatever its unsigned headers say.
 */
const BODY_IDENTITY_INDEX = `CREATE UNIQUE INDEX IF NOT EXISTS knocker_events_body_identity
  ON knocker_events(endpoint_id, body_identity) WHERE body_identity IS NOT NULL;`;

/**
 * The index ranges the dashboard's pages and counts, the operator's listEvents and retention's
 * prune walk (src/store/ranges.ts): events by endpoint and status, events by type (and, for the
 * statuses an event only reaches when something went wrong or an operator stepped in, by type and
 * status), and an endpoint's receipts by signature verdict over time. Every key ends in
 * received_at, which only grows, so a new row lands at the end of its range: a few hot pages, not
 * one random page per receipt.
 *
 * What they cost is counted per event on the way every event goes, received then handled:
 * knocker_events_endpoint_status took the place of the (status, received_at) index of version 4
 * (a selection of statuses alone walks each endpoint's range of them), and the type indexes are
 * not keyed by status where an event's status changes on that way (received → handled moves an
 * event in no type index), so a handler outcome moves it in one index as in version 4.
 */
const DASHBOARD_INDEXES = `
CREATE INDEX IF NOT EXISTS knocker_events_endpoint_status ON knocker_events(endpoint_id, status, received_at);
CREATE INDEX IF NOT EXISTS knocker_events_type ON knocker_events(event_type, received_at);
CREATE INDEX IF NOT EXISTS knocker_events_type_unsettled ON knocker_events(event_type, status, received_at) WHERE ${UNSETTLED_STATUSES};
CREATE INDEX IF NOT EXISTS knocker_deliveries_endpoint_signature ON knocker_deliveries(endpoint_id, signature_valid, received_at);`;

/**
 * Ordered processing (CONTRACT §11): each keyed event's place in its (endpoint, key), unique; and
 * the unsettled keyed events, which a claim looks up to tell whether a job's event waits behind
 * an earlier one of its key. Unkeyed events are in neither, so an inbox that orders nothing pays
 * for them only the first term of each WHERE.
 */
const ORDERING_INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS knocker_events_ordering
  ON knocker_events(endpoint_id, ordering_key, ordering_seq) WHERE ordering_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS knocker_events_ordering_unsettled
  ON knocker_events(endpoint_id, ordering_key, ordering_seq) WHERE ${UNSETTLED_KEYED};`;

/** Rejected receipts counted but not stored (over invalidDeliveriesPerMinute), per endpoint and minute. */
const DROPPED_REJECTIONS = `CREATE TABLE IF NOT EXISTS knocker_dropped_rejections (
  endpoint_id INTEGER NOT NULL REFERENCES knocker_endpoints(id),
  minute INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, minute)
);`;

/**
 * The two queue tables, column for column as Honker's own bootstrap declares them (read from the
 * sqlite_master of a file the Honker engine created), defaults included: Honker tools insert with
 * `honker_enqueue()` or plain INSERTs that leave run_at, created_at and died_at to the defaults.
 * The CHECK on state is Knocker's addition; Honker only ever writes those two values. `name`
 * lets a migration build the new table beside the old one.
 */
const liveTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processing')),
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL DEFAULT (unixepoch()),
  worker_id TEXT,
  claim_expires_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  expires_at INTEGER
);`;

const deadTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  died_at INTEGER NOT NULL DEFAULT (unixepoch())
);`;

/**
 * The live table's indexes, under Honker's names where Honker has the same index, so a Honker
 * bootstrap on a Knocker file finds them and adds no duplicate to maintain on every write.
 */
const LIVE_INDEXES = `
CREATE INDEX IF NOT EXISTS _honker_live_claim
  ON _honker_live(queue, priority DESC, run_at, id) WHERE state IN ('pending', 'processing');
-- Keep "when is the next job due" and "which claims expired" O(log n) at any backlog.
CREATE INDEX IF NOT EXISTS _honker_live_pending_deadline ON _honker_live(queue, run_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS _honker_live_processing_deadline ON _honker_live(queue, claim_expires_at) WHERE state = 'processing';
${EVENT_JOB_INDEX}`;

const QUEUE_TABLES = `${liveTable("_honker_live")}
${LIVE_INDEXES}
${deadTable("_honker_dead")}`;

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
  last_error TEXT,
  body_identity TEXT,
  ordering_key TEXT,
  ordering_seq INTEGER,
  trace_context TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS knocker_events_dedupe
  ON knocker_events(endpoint_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
${BODY_IDENTITY_INDEX}
${ORDERING_INDEXES}
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
  dedupe_key TEXT,
  body_length INTEGER,
  body_sha256 TEXT
);
CREATE INDEX IF NOT EXISTS knocker_deliveries_event ON knocker_deliveries(event_id);
${DROPPED_REJECTIONS}
CREATE INDEX IF NOT EXISTS knocker_deliveries_received ON knocker_deliveries(received_at);
CREATE INDEX IF NOT EXISTS knocker_deliveries_orphans ON knocker_deliveries(received_at) WHERE event_id IS NULL;
${DASHBOARD_INDEXES}

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

${QUEUE_TABLES}
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

/** The columns both queue tables keep across the rebuild, in order. */
const LIVE_COLUMNS = "id, queue, payload, state, priority, run_at, worker_id, claim_expires_at, attempts, max_attempts, created_at, expires_at";
const DEAD_COLUMNS = "id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at, died_at";

/**
 * v2 → v3: the queue tables gain Honker's defaults. SQLite cannot alter a column's default, so
 * each table is rebuilt (new table, copy, drop, rename) inside the bootstrap transaction. Ids are
 * copied as they are; the live table's AUTOINCREMENT counter is carried over by hand, since acked
 * jobs leave it above the largest id left and a reused id would collide in _honker_dead. The old
 * dead table allowed NULL run_at and created_at; those rows get what Honker's defaults would
 * have given them (0, and the time the job died).
 */
function rebuildQueueTables(db: Database): void {
  const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = '_honker_live'").pluck().get() as number | undefined;
  // An app's triggers on these tables go with DROP TABLE: put them back afterwards. Legacy rename
  // leaves an app's views as written (naming the table, which exists again after the rename)
  // instead of failing the rename because the dropped table's views no longer resolve.
  const triggers = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('_honker_live', '_honker_dead')").pluck().all() as string[];
  const legacyAlter = db.pragma("legacy_alter_table", { simple: true }) as number;
  db.pragma("legacy_alter_table = ON");
  try {
    rebuildTables(db);
  } finally {
    db.pragma(`legacy_alter_table = ${legacyAlter ? "ON" : "OFF"}`);
  }
  for (const sql of triggers) db.exec(sql);
  if (sequence !== undefined) {
    db.prepare("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = '_honker_live'").run(sequence);
    db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT '_honker_live', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '_honker_live')").run(sequence);
  }
}

function rebuildTables(db: Database): void {
  db.exec(`
    ${liveTable("_honker_live_v3")}
    INSERT INTO _honker_live_v3 (${LIVE_COLUMNS}) SELECT ${LIVE_COLUMNS} FROM _honker_live ORDER BY id;
    DROP TABLE _honker_live;
    ALTER TABLE _honker_live_v3 RENAME TO _honker_live;
    ${LIVE_INDEXES}

    ${deadTable("_honker_dead_v3")}
    INSERT INTO _honker_dead_v3 (${DEAD_COLUMNS})
      SELECT id, queue, payload, priority, COALESCE(run_at, 0), attempts, max_attempts, last_error, COALESCE(created_at, died_at), died_at
      FROM _honker_dead ORDER BY id;
    DROP TABLE _honker_dead;
    ALTER TABLE _honker_dead_v3 RENAME TO _honker_dead;`);
}

/**
 * v3 → v4: a rejected delivery keeps only the start of its body; these record the whole body's
 * length and SHA-256 (NULL on valid deliveries). Rejections over the per-minute budget are counted
 * in knocker_dropped_rejections. Events gain their body identity.
 */
function addDeliveryBodyDigest(db: Database): void {
  const has = new Set(db.prepare("SELECT name FROM pragma_table_info('knocker_deliveries')").pluck().all());
  for (const [column, type] of [["body_length", "INTEGER"], ["body_sha256", "TEXT"]] as const) {
    if (!has.has(column)) db.exec(`ALTER TABLE knocker_deliveries ADD COLUMN ${column} ${type}`);
  }
  const eventColumns = new Set(db.prepare("SELECT name FROM pragma_table_info('knocker_events')").pluck().all());
  if (!eventColumns.has("body_identity")) db.exec("ALTER TABLE knocker_events ADD COLUMN body_identity TEXT");
  db.exec(`${DROPPED_REJECTIONS} ${BODY_IDENTITY_INDEX}`);
}

/** v5 → v6: events gain their ordering key and their place in it (NULL on rows already there: unordered). */
function addOrdering(db: Database): void {
  const has = new Set(db.prepare("SELECT name FROM pragma_table_info('knocker_events')").pluck().all());
  for (const [column, type] of [["ordering_key", "TEXT"], ["ordering_seq", "INTEGER"]] as const) {
    if (!has.has(column)) db.exec(`ALTER TABLE knocker_events ADD COLUMN ${column} ${type}`);
  }
  db.exec(ORDERING_INDEXES);
}

/** v6 → v7: events gain the W3C traceparent of their receipt's span (telemetry; NULL when it was off). */
function addTraceContext(db: Database): void {
  const has = new Set(db.prepare("SELECT name FROM pragma_table_info('knocker_events')").pluck().all());
  if (!has.has("trace_context")) db.exec("ALTER TABLE knocker_events ADD COLUMN trace_context TEXT");
}

/** From each older version to the next, inside the bootstrap transaction. */
const MIGRATIONS: Record<number, (db: Database) => void> = {
  1: (db) => db.exec(`DROP INDEX IF EXISTS _honker_live_event; ${EVENT_JOB_INDEX}`),
  2: rebuildQueueTables,
  3: addDeliveryBodyDigest,
  // v4 → v5: the dashboard's indexes (built once, when a 0.2 file is first opened by this release).
  4: (db) => db.exec(`${DASHBOARD_INDEXES} DROP INDEX IF EXISTS knocker_events_status_received;`),
  5: addOrdering,
  6: addTraceContext,
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
    for (; version < SCHEMA_VERSION; version++) MIGRATIONS[version]!(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
}

/**
 * The current layout in a new, empty database, inside the caller's transaction (`knocker copy`
 * creates a file's schema and its rows in one transaction).
 */
export function createSchema(db: Database): void {
  if (checkedVersion(db) !== 0) throw new KnockerError("ERR_STORAGE", "createSchema() needs an empty database");
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
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
