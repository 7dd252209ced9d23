// `knocker copy` on SQLite: a table's rows a page at a time in key order, its inserts, and the
// AUTOINCREMENT counters in sqlite_sequence. Table and column names come from COPY_TABLES.
import type { CopyTable } from "../../copy/tables.js";

const columnList = (table: CopyTable) => table.columns.map((c) => c.name).join(", ");

export function copyPlans() {
  return {
    /** The first page (`after` null) or the next one, after a key. */
    page: (table: CopyTable, first: boolean) => {
      const key = table.key.join(", ");
      const after = first ? "" : `WHERE (${key}) > (${table.key.map(() => "?").join(", ")})`;
      return `SELECT ${columnList(table)} FROM ${table.name} ${after} ORDER BY ${key} LIMIT ?`;
    },
    count: (table: CopyTable) => `SELECT COUNT(*) FROM ${table.name}`,
    insert: (table: CopyTable) => `INSERT INTO ${table.name} (${columnList(table)}) VALUES (${table.columns.map(() => "?").join(", ")})`,
    counter: `SELECT seq FROM sqlite_sequence WHERE name = ?`,
    raiseCounter: `UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?`,
    addCounter: `INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`,
    tables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
    columns: `SELECT name FROM pragma_table_info(?)`,
  };
}
