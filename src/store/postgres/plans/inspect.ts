// What a schema holds, from the catalog (nothing is created or locked).
import { quoteIdentifier } from "../schema.js";

export function inspectPlans() {
  return {
    schema: `SELECT 1 FROM pg_namespace WHERE nspname = $1`,
    tables: `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    /** `schema` is a name open() accepts (checked by the caller). */
    version: (schema: string) => `SELECT value FROM ${quoteIdentifier(schema)}.knocker_meta WHERE key = 'schema_version'`,
  };
}
