// `knocker copy` on Postgres: a source read in one snapshot (a REPEATABLE READ, READ ONLY
// transaction on a connection of its own), and a sink that creates or migrates the schema and
// writes every row in one transaction, so a failure leaves nothing behind.
import { KnockerError } from "../../errors.js";
import type { TableSink, TableSource } from "../copy/copy-inbox.js";
import { canonicalValue, checkColumns, COPY_TABLES, describeKey, ENGINE_TABLES, type CopyTable, type Row, type Value } from "../copy/tables.js";
import { pgStorageError } from "./errors.js";
import { connectPostgres, inspectSchema, type PgConnection } from "./inspect.js";
import { copyPlans } from "./plans/copy.js";
import { migratePostgres, PG_SCHEMA_VERSION, quoteIdentifier } from "./schema.js";

/** Where a copy reads or writes: the URL, the schema, and how messages name them (no password). */
export interface PgCopyTarget {
  url: string;
  schema: string;
  label: string;
}

/** An existing inbox, read in one snapshot until close(). */
export class PgTableSource implements TableSource {
  readonly #client: PgConnection;
  readonly #target: PgCopyTarget;
  readonly #sql: ReturnType<typeof copyPlans>;
  /** Tables in the schema that are not Knocker's: not copied. */
  otherTables: string[] = [];

  private constructor(client: PgConnection, target: PgCopyTarget) {
    this.#client = client;
    this.#target = target;
    this.#sql = copyPlans(quoteIdentifier(target.schema));
  }

  static async open(target: PgCopyTarget): Promise<PgTableSource> {
    let client: PgConnection;
    try {
      client = await connectPostgres(target.url);
    } catch (error) {
      throw pgStorageError(`connecting to ${target.label}`, error);
    }
    const source = new PgTableSource(client, target);
    try {
      await source.#check();
    } catch (error) {
      await source.close().catch(() => {});
      throw pgStorageError(`reading ${target.label}`, error);
    }
    return source;
  }

  async #check(): Promise<void> {
    const { label, schema } = this.#target;
    await this.#client.query(this.#sql.snapshot);
    const facts = await inspectSchema(this.#client, schema);
    if (!facts.tables.includes("knocker_events")) throw new KnockerError("ERR_INVALID_STATE", `${label} is not a Knocker inbox (no knocker_events table)`);
    if (facts.version !== PG_SCHEMA_VERSION) {
      throw new KnockerError(
        "ERR_INVALID_STATE",
        facts.version !== null && facts.version > PG_SCHEMA_VERSION
          ? `${label} is at schema version ${facts.version}, newer than this release of knocker supports (${PG_SCHEMA_VERSION}): upgrade knocker`
          : `${label} is at schema version ${facts.version ?? "(none)"}; open it once with this release to migrate it to version ${PG_SCHEMA_VERSION}, then copy it`,
      );
    }
    this.otherTables = facts.tables.filter((name) => !ENGINE_TABLES.has(name) && !COPY_TABLES.some((t) => t.name === name));
    for (const table of COPY_TABLES) {
      if (!facts.tables.includes(table.name)) throw new KnockerError("ERR_INVALID_STATE", `${label} has no ${table.name} table`);
      const columns = (await this.#client.query<{ name: string }>(this.#sql.columns, [this.#qualified(table)])).rows.map((row) => row.name);
      checkColumns(table, columns, label);
    }
  }

  async page(table: CopyTable, after: readonly Value[] | null, limit: number): Promise<Row[]> {
    const result = await this.#read(`reading ${table.name}`, () =>
      this.#client.query<unknown[]>({ text: this.#sql.page(table, after === null), values: [...(after ?? []), limit], rowMode: "array" }));
    return result.rows.map((row) => table.columns.map((column, i) => canonicalValue(table, column, row[i], row)));
  }

  async count(table: CopyTable): Promise<number> {
    const { rows } = await this.#read(`counting ${table.name}`, () => this.#client.query<{ n: string }>(this.#sql.count(table)));
    return Number(rows[0]!.n);
  }

  async counter(table: CopyTable): Promise<number> {
    return this.#read(`reading ${table.name}'s id sequence`, async () => {
      const sequence = (await this.#client.query<{ name: string | null }>(this.#sql.sequence, [this.#qualified(table)])).rows[0]?.name;
      if (sequence === null || sequence === undefined) return 0;
      return Number((await this.#client.query<{ n: string }>(this.#sql.counter(sequence))).rows[0]!.n);
    });
  }

  async close(): Promise<void> {
    await this.#client.query("COMMIT").catch(() => {});
    await this.#client.end();
  }

  #qualified(table: CopyTable): string {
    return `${quoteIdentifier(this.#target.schema)}.${table.name}`;
  }

  async #read<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw pgStorageError(`${action} from ${this.#target.label}`, error);
    }
  }
}

/**
 * A new inbox in a schema that does not exist yet or holds no Knocker rows: the schema created
 * (or migrated) and every row written in one transaction, its tables locked against writers
 * until the commit. Anything else is refused before a row is written.
 */
export class PgTableSink implements TableSink {
  readonly #client: PgConnection;
  readonly #target: PgCopyTarget;
  readonly #sql: ReturnType<typeof copyPlans>;

  private constructor(client: PgConnection, target: PgCopyTarget) {
    this.#client = client;
    this.#target = target;
    this.#sql = copyPlans(quoteIdentifier(target.schema));
  }

  static async open(target: PgCopyTarget): Promise<PgTableSink> {
    let client: PgConnection;
    try {
      client = await connectPostgres(target.url);
    } catch (error) {
      throw pgStorageError(`connecting to ${target.label}`, error);
    }
    const sink = new PgTableSink(client, target);
    try {
      await client.query("BEGIN");
      await client.query(sink.#sql.lockTimeout);
      await migratePostgres(client, target.schema);
      await client.query(sink.#sql.lock(COPY_TABLES));
      const holding: string[] = [];
      for (const table of COPY_TABLES) if ((await client.query<{ found: boolean }>(sink.#sql.any(table))).rows[0]!.found) holding.push(table.name);
      if (holding.length > 0) {
        throw new KnockerError(
          "ERR_INVALID_STATE",
          `${target.label} already holds an inbox (rows in ${holding.join(", ")}); knocker copy writes into a schema that does not exist yet or holds no Knocker rows (name another with --to-schema)`,
        );
      }
    } catch (error) {
      await sink.abort();
      throw pgStorageError(`preparing ${target.label}`, error);
    }
    return sink;
  }

  async insert(table: CopyTable, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    for (const row of rows) {
      row.forEach((value, i) => {
        // Postgres text cannot hold U+0000; SQLite's can.
        if (typeof value === "string" && value.includes("\u0000")) {
          throw new KnockerError("ERR_STORAGE", `${table.name} (${describeKey(table, row)}): column ${table.columns[i]!.name} holds a NUL character, which a Postgres text column cannot store; nothing was copied`);
        }
      });
    }
    try {
      await this.#client.query(this.#sql.insert(table, rows.length), rows.flat());
    } catch (error) {
      throw pgStorageError(`writing ${table.name} into ${this.#target.label}`, error);
    }
  }

  async continueIds(table: CopyTable, past: number): Promise<void> {
    try {
      await this.#client.query(this.#sql.continueIds, [`${quoteIdentifier(this.#target.schema)}.${table.name}`, past]);
    } catch (error) {
      throw pgStorageError(`moving ${table.name}'s id sequence in ${this.#target.label}`, error);
    }
  }

  async commit(): Promise<void> {
    try {
      await this.#client.query("COMMIT");
    } catch (error) {
      throw pgStorageError(`committing the copy into ${this.#target.label}`, error);
    } finally {
      await this.#client.end().catch(() => {});
    }
  }

  async abort(): Promise<void> {
    await this.#client.query("ROLLBACK").catch(() => {});
    await this.#client.end().catch(() => {});
  }
}
