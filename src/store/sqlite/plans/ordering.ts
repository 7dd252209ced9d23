// Ordered processing on SQLite (CONTRACT §11): an event's place in its key, the check that keeps
// a job waiting behind an earlier event of its key, and the operator's list of blocked keys.
// Every write here runs under the single write lock, so places follow commit order.
import type { Database } from "better-sqlite3";
import { UNSETTLED_KEYED, unsettledKeyed } from "../../ordering.js";
import { prepareAll } from "../connection.js";
import type { BlockedKeyRow } from "../../rows.js";

/**
 * Whether any keyed event is unsettled, in any process's writes: while none is, no job can wait
 * behind its key, and the queue claims with statements that leave JOB_WAITS out (plans/queue.ts).
 * One probe of the partial index knocker_events_ordering_unsettled, empty in an inbox that orders
 * nothing.
 */
export const KEYS_MAY_WAIT = `SELECT EXISTS (SELECT 1 FROM knocker_events WHERE ${UNSETTLED_KEYED})`;

/**
 * True when the job of `_honker_live` row `l` must wait: its event has a key and an earlier event
 * of that key is unsettled (received, running, or failed awaiting a retry).
 */
export const JOB_WAITS = `EXISTS (SELECT 1 FROM knocker_events e JOIN knocker_events p
    ON p.endpoint_id = e.endpoint_id AND p.ordering_key = e.ordering_key AND p.ordering_seq < e.ordering_seq
    WHERE e.id = (CASE WHEN json_valid(l.payload) THEN json_extract(l.payload, '$.event_id') END)
      AND e.ordering_key IS NOT NULL AND ${unsettledKeyed("p")})`;

export function prepareOrderingStatements(db: Database) {
  const statements = prepareAll(db, {
    /** $1 key, $2 endpoint, $3 key again, $4 event: the key's highest place so far, plus one. */
    place: `UPDATE knocker_events SET ordering_key = ?, ordering_seq = (
        SELECT COALESCE(MAX(ordering_seq), 0) + 1 FROM knocker_events WHERE endpoint_id = ? AND ordering_key = ? AND ordering_key IS NOT NULL)
      WHERE id = ?`,
  });
  return {
    /** Event `eventId` takes the next place of its key: at ingest, and again when it is replayed (behind the key's pending events). */
    place(eventId: number, endpointId: number, key: string): void {
      statements.place.run(key, endpointId, key, eventId);
    },
  };
}

export type OrderingStatements = ReturnType<typeof prepareOrderingStatements>;

/**
 * Keys with events waiting: per (endpoint, key) of the unsettled keyed events (walked in the
 * partial index's order), the first one — the event that holds the others back — and how many
 * wait behind it. Most waiting first.
 */
export function selectBlockedKeys(db: Database, endpoint: string | undefined, limit: number): BlockedKeyRow[] {
  return db
    .prepare(`SELECT k.name AS endpoint, g.ordering_key AS key, h.id AS blocking_event_id, h.status AS blocking_status, g.waiting
      FROM (SELECT endpoint_id, ordering_key, MIN(ordering_seq) AS head, COUNT(*) - 1 AS waiting FROM knocker_events
            WHERE ${UNSETTLED_KEYED} ${endpoint === undefined ? "" : "AND endpoint_id = (SELECT id FROM knocker_endpoints WHERE name = ?)"}
            GROUP BY endpoint_id, ordering_key HAVING COUNT(*) > 1) g
      JOIN knocker_events h ON h.endpoint_id = g.endpoint_id AND h.ordering_key = g.ordering_key AND h.ordering_seq = g.head
        AND h.ordering_key IS NOT NULL
      JOIN knocker_endpoints k ON k.id = g.endpoint_id
      ORDER BY g.waiting DESC, k.name, g.ordering_key LIMIT ?`)
    .all(...(endpoint === undefined ? [] : [endpoint]), limit) as BlockedKeyRow[];
}
