import type { SqliteDatabase } from "../../../interfaces.js";

/**
 * The endpoint a filter names, and every endpoint's id (for a selection of statuses alone); null
 * when the name is not registered, so the selection matches nothing.
 */
export function endpointScope(db: SqliteDatabase, name: string | undefined): { endpointId: number | undefined; everyEndpoint: number[] } | null {
  const endpointId = name === undefined ? undefined : (db.prepare("SELECT id FROM knocker_endpoints WHERE name = ?").pluck().get(name) as number | undefined);
  if (name !== undefined && endpointId === undefined) return null;
  return { endpointId, everyEndpoint: db.prepare("SELECT id FROM knocker_endpoints").pluck().all() as number[] };
}
