import type * as Pg from "pg";
import { loadPg } from "./driver.js";
import { inspectPlans } from "./plans/inspect.js";

export type PgConnection = Pg.Client;

/** What a schema holds, before anything is opened on it (the CLI must not create an inbox by mistake). */
export interface SchemaFacts {
  exists: boolean;
  /** Its tables (all of them, Knocker's or not). */
  tables: string[];
  /** knocker_meta's schema_version; null without one. */
  version: number | null;
}

/**
 * A client of its own (not a pool's), connected; node-postgres's raw errors pass through, so the
 * caller can tell a missing database (3D000) from a server it cannot reach.
 */
export async function connectPostgres(url: string): Promise<PgConnection> {
  const pg = loadPg();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A connection that dies between queries emits 'error'; the next query rejects with it instead.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

export async function inspectSchema(client: PgConnection, schema: string): Promise<SchemaFacts> {
  const sql = inspectPlans();
  const tables = (await client.query<{ name: string }>(sql.tables, [schema])).rows.map((row) => row.name);
  const exists = (await client.query(sql.schema, [schema])).rows.length > 0;
  let version: number | null = null;
  if (tables.includes("knocker_meta")) {
    const found = (await client.query<{ value: string }>(sql.version(schema))).rows[0];
    version = found === undefined ? null : Number(found.value);
  }
  return { exists, tables, version };
}
