// `knocker copy` on Postgres, for schema `s` (quoted): a table's rows a page at a time in key
// order (text keys in byte order, COLLATE "C", as SQLite orders them), multi-row inserts, and the
// identity sequences. Table and column names come from COPY_TABLES.
import type { CopyTable } from "../../copy/tables.js";

const columnList = (table: CopyTable) => table.columns.map((c) => c.name).join(", ");

/** A key column as it is ordered and compared: text by its bytes. */
const keyTerm = (table: CopyTable, name: string) => (table.columns.find((c) => c.name === name)!.kind === "text" ? `${name} COLLATE "C"` : name);

export function copyPlans(s: string) {
  return {
    snapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    page: (table: CopyTable, first: boolean) => {
      const key = table.key.map((name) => keyTerm(table, name));
      const after = first ? "" : `WHERE (${key.join(", ")}) > (${table.key.map((_, i) => `$${i + 1}`).join(", ")})`;
      return `SELECT ${columnList(table)} FROM ${s}.${table.name} ${after} ORDER BY ${key.join(", ")} LIMIT $${first ? 1 : table.key.length + 1}`;
    },
    count: (table: CopyTable) => `SELECT COUNT(*) AS n FROM ${s}.${table.name}`,
    any: (table: CopyTable) => `SELECT EXISTS (SELECT 1 FROM ${s}.${table.name}) AS found`,
    insert: (table: CopyTable, rows: number) => {
      const width = table.columns.length;
      const tuples = Array.from({ length: rows }, (_, r) => `(${table.columns.map((_, c) => `$${r * width + c + 1}`).join(", ")})`);
      return `INSERT INTO ${s}.${table.name} (${columnList(table)}) VALUES ${tuples.join(", ")}`;
    },
    /** The tables, locked against writers until the copy commits (the target must stay empty until then). */
    lock: (tables: readonly CopyTable[]) => `LOCK TABLE ${tables.map((t) => `${s}.${t.name}`).join(", ")} IN EXCLUSIVE MODE`,
    lockTimeout: "SET LOCAL lock_timeout = '10s'",
    /** The identity's sequence, as a (quoted) name; $1 is the table, schema-qualified. */
    sequence: `SELECT pg_get_serial_sequence($1, 'id') AS name`,
    /** What the sequence handed out last (0: nothing yet). `sequence` is a name Postgres returned. */
    counter: (sequence: string) => `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS n FROM ${sequence}`,
    continueIds: `SELECT setval(pg_get_serial_sequence($1, 'id'), $2, true)`,
    columns: `SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  };
}
