// `knocker copy`, engine-neutral: every table of COPY_TABLES read from a source in key order, a
// page at a time (a large inbox is never held in memory), and written to a sink that commits it
// all in one transaction; then each side read back and compared table by table.
import { TableDigest } from "./checksum.js";
import { COPY_TABLES, keyPositions, type CopyTable, type Row, type Value } from "./tables.js";

/** An inbox read in one snapshot: pages of canonical rows (tables.ts canonicalValue()). */
export interface TableSource {
  /** Rows after `after` (a key, in the table's key order), at most `limit`. */
  page(table: CopyTable, after: readonly Value[] | null, limit: number): Promise<Row[]>;
  count(table: CopyTable): Promise<number>;
  /** The last id the engine handed out for an identity table (0 when none). */
  counter(table: CopyTable): Promise<number>;
  close(): Promise<void>;
}

/** A new inbox being written: nothing is visible until commit(); abort() leaves nothing behind. */
export interface TableSink {
  insert(table: CopyTable, rows: readonly Row[]): Promise<void>;
  /** The next id the engine hands out for `table` is greater than `past`. */
  continueIds(table: CopyTable, past: number): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Rows per page; fewer for tables with bodies, so a page of large bodies stays small. */
const PAGE_ROWS = 500;
const PAGE_ROWS_WITH_BODIES = 100;

export const pageRows = (table: CopyTable) => (table.columns.some((c) => c.kind === "blob") ? PAGE_ROWS_WITH_BODIES : PAGE_ROWS);

/** Every row of `table` in key order, page by page. */
export async function* tableRows(source: TableSource, table: CopyTable): AsyncGenerator<Row[]> {
  const key = keyPositions(table);
  const limit = pageRows(table);
  let after: Value[] | null = null;
  for (;;) {
    const rows = await source.page(table, after, limit);
    if (rows.length > 0) yield rows;
    if (rows.length < limit) return;
    const last = rows[rows.length - 1]!;
    after = key.map((at) => last[at]!);
  }
}

/**
 * Copy every table, then move each identity counter past what the source handed out, and commit.
 * On any failure the sink is aborted (nothing written) and the error rethrown.
 */
export async function copyTables(source: TableSource, sink: TableSink, onRows: (n: number) => void = () => {}): Promise<void> {
  try {
    const maxIds = new Map<string, number>();
    for (const table of COPY_TABLES) {
      const idAt = table.columns.findIndex((c) => c.name === "id");
      let max = 0;
      for await (const rows of tableRows(source, table)) {
        await sink.insert(table, rows);
        if (idAt >= 0) for (const row of rows) max = Math.max(max, row[idAt] as number);
        onRows(rows.length);
      }
      maxIds.set(table.name, max);
    }
    for (const table of COPY_TABLES) {
      if (table.identity === undefined) continue;
      const past = Math.max(await source.counter(table), maxIds.get(table.name)!, ...(table.identity.alsoPast ?? []).map((name) => maxIds.get(name)!));
      if (past > 0) await sink.continueIds(table, past);
    }
    await sink.commit();
  } catch (error) {
    await sink.abort().catch(() => {});
    throw error;
  }
}

export interface TableCheck {
  table: string;
  source: { rows: number; sha256: string };
  target: { rows: number; sha256: string };
  match: boolean;
}

/** Each table's count and checksum on both sides; `nextIds` says whether the target's counters are past the source's. */
export async function verifyTables(source: TableSource, target: TableSource): Promise<{ tables: TableCheck[]; countersBehind: string[] }> {
  const tables: TableCheck[] = [];
  for (const table of COPY_TABLES) {
    const [a, b] = await Promise.all([digest(source, table), digest(target, table)]);
    tables.push({ table: table.name, source: a, target: b, match: a.rows === b.rows && a.sha256 === b.sha256 });
  }
  const countersBehind: string[] = [];
  for (const table of COPY_TABLES) {
    if (table.identity !== undefined && (await target.counter(table)) < (await source.counter(table))) countersBehind.push(table.name);
  }
  return { tables, countersBehind };
}

async function digest(source: TableSource, table: CopyTable): Promise<{ rows: number; sha256: string }> {
  const hash = new TableDigest();
  for await (const rows of tableRows(source, table)) for (const row of rows) hash.add(row);
  const { rows, sha256 } = hash.finish(table);
  return { rows, sha256 };
}
