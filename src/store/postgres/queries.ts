// Knocker's queries on a pg client: bigint columns (ids, unix seconds, counts) come back as JS
// numbers, as on SQLite, without changing the parsers of a pool the app shares with Knocker.
import { createHash } from "node:crypto";
import type { CustomTypesConfig, QueryResultRow } from "pg";
import type { PgClient, PgTypes } from "./driver.js";

const INT8 = 20;
const MAX_NAMED = 500;

export type Query = <R extends QueryResultRow = Record<string, unknown>>(client: PgClient, text: string, values?: readonly unknown[]) => Promise<{ rows: R[]; rowCount: number }>;

const names = new Map<string, string>();

/**
 * A named statement is parsed and planned once per connection, then only bound and run. Named by
 * the text's hash: every Knocker sharing a pool (and each of its sessions) names one statement
 * alike, and two statements never share a name. Bounded: plans built per filter are a finite
 * set, but a connection keeps every statement it prepared (past the bound: unnamed).
 */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) names.set(text, (name = `knocker_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`));
  return name;
}

export function queryWith(pg: PgTypes): Query {
  const types: CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: string) =>
      oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as never)) as CustomTypesConfig["getTypeParser"],
  };
  return async (client, text, values = []) => {
    const result = await client.query({ name: statementName(text), text, values: values as unknown[], types });
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };
}

/** A plan written with named parameters (@name), as node-postgres takes it: $1, $2, … and their values. */
export function positional(sql: string, params: Record<string, unknown>): { text: string; values: unknown[] } {
  const order: string[] = [];
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`plan parameter @${name} has no value`);
    let at = order.indexOf(name);
    if (at < 0) at = order.push(name) - 1;
    return `$${at + 1}`;
  });
  return { text, values: order.map((name) => params[name]) };
}
