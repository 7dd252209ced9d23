import type { PrunableStatus, SqliteDatabase } from "../../../interfaces.js";
import type { DeliveryCountRow, EventSelection, QueueRow, StatsRows, StatusCountRow } from "../../store.js";
import { eventRanges, prunablePlans, walkRanges } from "../../ranges.js";
import { endpointScope } from "./endpoint-scope.js";

// The CLI's own reads: the counts of `knocker stats`, the id snapshot of a bulk action and the
// count a prune asks to confirm. Each runs on the Knocker's writer connection as a read
// transaction (BEGIN DEFERRED, or a single statement: no write lock).

export function selectStats(db: SqliteDatabase, queueName: string): StatsRows {
  return db.transaction(() => ({
    // Every registered endpoint appears, also with no events (a NULL status row).
    statusCounts: db
      .prepare(
        `SELECT k.name AS endpoint, k.provider AS provider, e.status AS status, COUNT(e.id) AS n
         FROM knocker_endpoints k LEFT JOIN knocker_events e ON e.endpoint_id = k.id
         GROUP BY k.id, e.status ORDER BY k.name, e.status`,
      )
      .all() as StatusCountRow[],
    queue: db
      .prepare(
        `SELECT COUNT(*) AS depth, COALESCE(SUM(state = 'pending'), 0) AS pending, COALESCE(SUM(state = 'processing'), 0) AS processing,
           MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldestPendingAt
         FROM _honker_live WHERE queue = ?`,
      )
      .get(queueName) as QueueRow,
    deadJobs: db.prepare(`SELECT COUNT(*) FROM _honker_dead WHERE queue = ?`).pluck().get(queueName) as number,
    deliveries: db
      .prepare(
        `SELECT COUNT(*) AS total, COALESCE(SUM(signature_valid = 0), 0) AS invalid, COALESCE(SUM(event_id IS NULL), 0) AS orphaned,
           (SELECT COALESCE(SUM(dropped), 0) FROM knocker_dropped_rejections) AS dropped
         FROM knocker_deliveries`,
      )
      .get() as DeliveryCountRow,
  }))();
}

/** Ids of the events a bulk action will visit, oldest first, taken once before any change (src/store/ranges.ts). */
export function selectEventIds(db: SqliteDatabase, selection: EventSelection): number[] {
  const scope = endpointScope(db, selection.endpoint);
  if (scope === null) return [];
  const params: Record<string, unknown> = { limit: selection.limit ?? -1 };
  const statuses = selection.status === undefined ? undefined : [selection.status];
  const ranges = eventRanges({ statuses, endpointId: scope.endpointId, eventType: selection.eventType }, scope.everyEndpoint, params);
  const bounds: string[] = [];
  if (selection.since !== undefined) (bounds.push("received_at >= @since"), (params.since = selection.since));
  return db.prepare(`SELECT id FROM (${walkRanges("knocker_events", ranges, bounds, "ASC")})`).pluck().all(params) as number[];
}

/** What `prune` would remove, counted up to `limit`: the number its confirmation names (the prune's own ranges). */
export function countPrunable(
  db: SqliteDatabase,
  what: { statuses: readonly PrunableStatus[]; olderThan: number; limit: number } | { olderThan: number; limit: number },
): number {
  if ("statuses" in what) {
    const plan = prunablePlans("knocker_events", what.statuses, endpointScope(db, undefined)!.everyEndpoint, what.olderThan, what.limit);
    return db.prepare(plan.count).pluck().get(plan.params) as number;
  }
  return db
    .prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM knocker_deliveries WHERE event_id IS NULL AND received_at < ? LIMIT ?)`)
    .pluck()
    .get(what.olderThan, what.limit) as number;
}
