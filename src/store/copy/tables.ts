// Every table of an inbox, as `knocker copy` moves it: the same names and columns on both engines
// (CONTRACT §3; sqlite/schema.ts and postgres/schema.ts), written once. Tables are listed parents
// first, so each row's references exist when it is inserted. Not listed: each engine's record of
// its schema version (SQLite's PRAGMA user_version, Postgres's knocker_meta), which the target's
// own bootstrap writes, and SQLite's sqlite_sequence, whose counters travel as `identity`.
import { KnockerError } from "../../errors.js";

export type ColumnKind = "integer" | "text" | "blob";

export interface CopyColumn {
  name: string;
  kind: ColumnKind;
}

export interface CopyTable {
  name: string;
  columns: readonly CopyColumn[];
  /** The primary key: rows are read and compared in its order. */
  key: readonly string[];
  /**
   * Ids the engine hands out (AUTOINCREMENT / identity): the target's counter continues past the
   * source's counter and past every id copied — also past the ids of `alsoPast` (a live job's id
   * becomes its dead letter's id, so a reused one would collide in _honker_dead).
   */
  identity?: { alsoPast?: readonly string[] };
}

/** One value as both engines' readers give it: integers as numbers, bodies as bytes. */
export type Value = number | string | Buffer | null;
export type Row = Value[];

const int = (name: string): CopyColumn => ({ name, kind: "integer" });
const text = (name: string): CopyColumn => ({ name, kind: "text" });
const blob = (name: string): CopyColumn => ({ name, kind: "blob" });

const PAYLOAD = [
  int("received_at"), text("provider_event_id"), text("provider_delivery_id"), text("event_type"), text("method"),
  text("headers_json"), blob("body_blob"), text("query_json"),
];

export const COPY_TABLES: readonly CopyTable[] = [
  {
    name: "knocker_endpoints",
    columns: [int("id"), text("name"), text("path"), text("provider"), int("enabled"), int("created_at")],
    key: ["id"],
    identity: {},
  },
  {
    name: "knocker_events",
    columns: [
      int("id"), int("endpoint_id"), ...PAYLOAD, text("dedupe_key"), text("status"), int("attempt_count"),
      int("handled_at"), text("last_error"), text("body_identity"), text("ordering_key"), int("ordering_seq"), text("trace_context"),
    ],
    key: ["id"],
    identity: {},
  },
  {
    name: "knocker_deliveries",
    columns: [
      int("id"), int("endpoint_id"), int("event_id"), ...PAYLOAD, int("signature_valid"), text("signature_error"),
      text("dedupe_key"), int("body_length"), text("body_sha256"),
    ],
    key: ["id"],
    identity: {},
  },
  {
    name: "knocker_attempts",
    columns: [int("id"), int("event_id"), int("attempted_at"), text("outcome"), text("error"), int("duration_ms")],
    key: ["id"],
    identity: {},
  },
  {
    name: "knocker_dropped_rejections",
    columns: [int("endpoint_id"), int("minute"), int("dropped")],
    key: ["endpoint_id", "minute"],
  },
  {
    name: "knocker_prune_audits",
    columns: [
      int("id"), text("kind"), text("queue_name"), int("executed_at"), int("events_pruned"), int("deliveries_pruned"),
      int("attempts_pruned"), int("live_jobs_pruned"), text("summary_json"),
    ],
    key: ["id"],
    identity: {},
  },
  {
    name: "_honker_live",
    columns: [
      int("id"), text("queue"), text("payload"), text("state"), int("priority"), int("run_at"), text("worker_id"),
      int("claim_expires_at"), int("attempts"), int("max_attempts"), int("created_at"), int("expires_at"),
    ],
    key: ["id"],
    identity: { alsoPast: ["_honker_dead"] },
  },
  {
    name: "_honker_dead",
    columns: [
      int("id"), text("queue"), text("payload"), int("priority"), int("run_at"), int("attempts"), int("max_attempts"),
      text("last_error"), int("created_at"), int("died_at"),
    ],
    key: ["id"],
  },
  {
    name: "_honker_locks",
    columns: [text("name"), text("owner"), int("expires_at")],
    key: ["name"],
  },
  {
    name: "_honker_scheduler_tasks",
    columns: [
      text("name"), text("queue"), text("cron_expr"), text("payload"), int("priority"), int("expires_s"), int("next_fire_at"),
      int("enabled"), int("max_attempts"),
    ],
    key: ["name"],
  },
];

/** The engines' own bookkeeping tables, never an inbox's data. */
export const ENGINE_TABLES: ReadonlySet<string> = new Set(["knocker_meta"]);

/** The source's columns must be the ones COPY_TABLES moves: another column's data would be left behind. */
export function checkColumns(table: CopyTable, found: readonly string[], where: string): void {
  const known = new Set(table.columns.map((c) => c.name));
  const extra = found.filter((name) => !known.has(name));
  const missing = [...known].filter((name) => !found.includes(name));
  if (extra.length > 0 || missing.length > 0) {
    throw new KnockerError(
      "ERR_INVALID_STATE",
      `${where}: ${table.name} ${extra.length > 0 ? `has columns this release does not know (${extra.join(", ")})` : `lacks columns (${missing.join(", ")})`}; it cannot be copied unchanged`,
    );
  }
}

/** The positions of a table's key columns in its rows. */
export function keyPositions(table: CopyTable): number[] {
  return table.key.map((name) => table.columns.findIndex((column) => column.name === name));
}

/** What a row's key says in a message: `id 12`, `name "x"`, `endpoint_id 1, minute 2`. */
export function describeKey(table: CopyTable, row: readonly unknown[]): string {
  return keyPositions(table).map((at, i) => {
    const value = row[at];
    return `${table.key[i]} ${table.columns[at]!.kind === "integer" ? String(value) : JSON.stringify(value)}`;
  }).join(", ");
}

/**
 * A driver's value as the canonical one of its column's kind: integers (a number, a bigint, or
 * Postgres's int8 text) as safe-integer numbers, text as strings, bodies as Buffers. A value of
 * another type (SQLite stores what it is given) cannot be moved unchanged: an error names it.
 */
export function canonicalValue(table: CopyTable, column: CopyColumn, raw: unknown, row: readonly unknown[]): Value {
  if (raw === null || raw === undefined) return null;
  switch (column.kind) {
    case "integer": {
      const n = typeof raw === "bigint" ? Number(raw) : typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n === "number" && Number.isSafeInteger(n)) return n;
      break;
    }
    case "text":
      if (typeof raw === "string") return raw;
      break;
    case "blob":
      if (Buffer.isBuffer(raw)) return raw;
      if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      break;
  }
  const tooLarge = column.kind === "integer" && (typeof raw === "bigint" || (typeof raw === "string" && /^-?\d+$/.test(raw)));
  const what = tooLarge ? `the integer ${raw}, beyond what a JavaScript number holds exactly (2^53)` : `${describeValue(raw)}, not ${column.kind === "integer" ? "an integer" : column.kind}`;
  throw new KnockerError("ERR_STORAGE", `${table.name} (${describeKey(table, row)}): column ${column.name} holds ${what}; it cannot be copied unchanged`);
}

function describeValue(raw: unknown): string {
  if (typeof raw === "number") return `the number ${raw}`;
  if (typeof raw === "string") return "text";
  if (raw instanceof Uint8Array) return "a blob";
  return `a ${typeof raw}`;
}
