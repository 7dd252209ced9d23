// The command line's reads on Postgres, for schema `s` (quoted): the counts of `knocker stats`, the
// id snapshot of a bulk action and the count a prune asks to confirm — SQLite's selections
// (sqlite/plans/cli.ts), the index ranges walked the same way (store/ranges.ts).
import type { PrunableStatus } from "../../../interfaces.js";
import type { EventSelection } from "../../store.js";
import { eventRanges, prunablePlans, walkRanges } from "../../ranges.js";

export function cliPlans(s: string) {
  return {
    // Every registered endpoint appears, also with no events (a NULL status row). Names sort by
    // their bytes and a NULL status first, as SQLite sorts them.
    statusCounts: `SELECT k.name AS endpoint, k.provider AS provider, e.status AS status, COUNT(e.id) AS n
      FROM ${s}.knocker_endpoints k LEFT JOIN ${s}.knocker_events e ON e.endpoint_id = k.id
      GROUP BY k.id, k.name, k.provider, e.status ORDER BY k.name COLLATE "C", e.status COLLATE "C" NULLS FIRST`,
    queue: `SELECT COUNT(*) AS depth, COUNT(*) FILTER (WHERE state = 'pending') AS pending,
        COUNT(*) FILTER (WHERE state = 'processing') AS processing,
        MIN(created_at) FILTER (WHERE state = 'pending') AS "oldestPendingAt"
      FROM ${s}._honker_live WHERE queue = $1`,
    deadJobs: `SELECT COUNT(*) AS n FROM ${s}._honker_dead WHERE queue = $1`,
    deliveries: `SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE signature_valid = 0) AS invalid,
        COUNT(*) FILTER (WHERE event_id IS NULL) AS orphaned,
        (SELECT COALESCE(SUM(dropped), 0)::bigint FROM ${s}.knocker_dropped_rejections) AS dropped
      FROM ${s}.knocker_deliveries`,
    endpointId: `SELECT id FROM ${s}.knocker_endpoints WHERE name = $1`,
    endpointIds: `SELECT id FROM ${s}.knocker_endpoints ORDER BY id`,
    countOrphans: `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${s}.knocker_deliveries WHERE event_id IS NULL AND received_at < $1 LIMIT $2) AS orphans`,
  };
}

/** The events of a bulk action, oldest first (`id, received_at`); no limit: every match. */
export function eventIdsPlan(s: string, selection: EventSelection, endpointId: number | undefined, everyEndpoint: readonly number[]) {
  const params: Record<string, unknown> = { limit: selection.limit ?? null };
  const statuses = selection.status === undefined ? undefined : [selection.status];
  const ranges = eventRanges({ statuses, endpointId, eventType: selection.eventType }, everyEndpoint, params);
  const bounds: string[] = [];
  if (selection.since !== undefined) (bounds.push("received_at >= @since"), (params.since = selection.since));
  return { sql: walkRanges(`${s}.knocker_events`, ranges, bounds, "ASC", "postgres"), params };
}

/** How many events a prune of `statuses` would take, up to `limit` (the prune's own ranges). */
export function prunableCountPlan(s: string, statuses: readonly PrunableStatus[], everyEndpoint: readonly number[], olderThan: number, limit: number) {
  const plan = prunablePlans(`${s}.knocker_events`, statuses, everyEndpoint, olderThan, limit, "postgres");
  return { sql: plan.count, params: plan.params };
}
