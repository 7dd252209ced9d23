// Ordered processing on Postgres (CONTRACT §11), for schema `s` (quoted): the check that keeps a
// job waiting behind an earlier event of its key, an event's new place at a replay, and the
// operator's list of blocked keys. Places at ingest are given in plans/receipts.ts (orderEvents).
import { UNSETTLED_KEYED, unsettledKeyed } from "../../ordering.js";

/**
 * True when the job of `_honker_live` row `l` must wait: its event has a key and an earlier event
 * of that key is unsettled (received, running, or failed awaiting a retry). The first EXISTS does
 * not depend on `l` (an InitPlan, run once per statement): while no keyed event is unsettled, a
 * claim looks at nothing else.
 *
 * Why SKIP LOCKED workers on several nodes never run two events of one key at once: only the
 * first unsettled event of a key passes this check, and it stops being unsettled only in the
 * commit that records its outcome (handled or dead, with the ack) or an operator's ignore. A claim
 * whose snapshot still shows it unsettled passes the next event over; one that sees it settled
 * was taken after that commit, so after the handler ended. Two claims of that next event are
 * kept apart by its row lock, as for any job.
 */
export function jobWaits(s: string): string {
  return `(EXISTS (SELECT 1 FROM ${s}.knocker_events WHERE ${UNSETTLED_KEYED})
  AND EXISTS (SELECT 1 FROM ${s}.knocker_events e JOIN ${s}.knocker_events p
    ON p.endpoint_id = e.endpoint_id AND p.ordering_key = e.ordering_key AND p.ordering_seq < e.ordering_seq
    WHERE e.id = ${s}.knocker_job_event_id(l.payload) AND e.ordering_key IS NOT NULL AND ${unsettledKeyed("p")}))`;
}

export function orderingPlans(s: string) {
  return {
    /** $1: an event that takes the next place of its key (a replay: behind the key's pending events), under the key's lock. */
    place: `SELECT ${s}.knocker_order_events(ARRAY[$1::bigint])`,

    /**
     * $1 endpoint name or NULL, $2 limit: per (endpoint, key) of the unsettled keyed events, the
     * first one and how many wait behind it; most waiting first, names in byte order as on SQLite.
     */
    blockedKeys: `SELECT k.name AS endpoint, g.ordering_key AS key, h.id AS blocking_event_id, h.status AS blocking_status, g.waiting
      FROM (SELECT endpoint_id, ordering_key, MIN(ordering_seq) AS head, COUNT(*) - 1 AS waiting FROM ${s}.knocker_events
            WHERE ${UNSETTLED_KEYED} AND ($1::text IS NULL OR endpoint_id = (SELECT id FROM ${s}.knocker_endpoints WHERE name = $1))
            GROUP BY endpoint_id, ordering_key HAVING COUNT(*) > 1) g
      JOIN ${s}.knocker_events h ON h.endpoint_id = g.endpoint_id AND h.ordering_key = g.ordering_key AND h.ordering_seq = g.head
        AND h.ordering_key IS NOT NULL
      JOIN ${s}.knocker_endpoints k ON k.id = g.endpoint_id
      ORDER BY g.waiting DESC, k.name COLLATE "C", g.ordering_key COLLATE "C" LIMIT $2`,
  };
}
