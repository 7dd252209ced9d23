// Every statement of the operator dashboard's own reads (src/dashboard/queries.ts) on SQLite. Each
// is an index range, never a scan of a whole table: pages and bulk selections walk index ranges
// and merge them (src/store/page-plans.ts, on src/store/ranges.ts), counts are range counts on the schema's dashboard indexes (schema.ts,
// version 5). test/dashboard-queries.test.ts checks the plans. better-sqlite3 binds JS numbers as
// REAL: slot arithmetic is done in JS, not in SQL.
import type { DeliverySelection, EventSelection, PageCursor } from "../../../dashboard/queries.js";
import * as pages from "../../page-plans.js";

export const DASHBOARD_SQL = {
  endpoints: "SELECT id, name, path, provider, enabled FROM knocker_endpoints ORDER BY name",
  /** One endpoint and status: a range count on knocker_events_endpoint_status. */
  statusCount: { pluck: "SELECT COUNT(*) FROM knocker_events WHERE endpoint_id = ? AND status = ?" },
  /** Receipts of one endpoint with one verdict in [from, to): a range count on knocker_deliveries_endpoint_signature. */
  receiptCount: { pluck: "SELECT COUNT(*) FROM knocker_deliveries WHERE endpoint_id = ? AND signature_valid = ? AND received_at >= ? AND received_at < ?" },
  receiptUncheckedCount: {
    pluck: "SELECT COUNT(*) FROM knocker_deliveries WHERE endpoint_id = ? AND signature_valid IS NULL AND received_at >= ? AND received_at < ?",
  },
  dropped: { pluck: "SELECT COALESCE(SUM(dropped), 0) FROM knocker_dropped_rejections WHERE endpoint_id = ? AND minute >= ? AND minute < ?" },
  oldestWith: { pluck: "SELECT MIN(received_at) FROM knocker_events WHERE endpoint_id = ? AND status = ?" },
  /** Partial indexes of the queue: _honker_live_pending_deadline, _honker_live_processing_deadline. */
  dueJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'pending' AND run_at <= ?" },
  scheduledJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'pending' AND run_at > ?" },
  processingJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'processing'" },
  oldestDue: { pluck: "SELECT MIN(run_at) FROM _honker_live WHERE queue = ? AND state = 'pending'" },
  maxEventId: { pluck: "SELECT COALESCE(MAX(id), 0) FROM knocker_events" },
  eventById: "SELECT e.id AS eventId, NULL AS deliveryId, k.name AS endpoint FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = ?",
  deliveryById: "SELECT d.event_id AS eventId, d.id AS deliveryId, k.name AS endpoint FROM knocker_deliveries d JOIN knocker_endpoints k ON k.id = d.endpoint_id WHERE d.id = ?",
  /** The dedupe index (endpoint_id, dedupe_key), probed once per endpoint. */
  eventsByDedupeKey: `SELECT e.id AS eventId, NULL AS deliveryId, k.name AS endpoint FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id
    WHERE e.endpoint_id IN (SELECT id FROM knocker_endpoints) AND e.dedupe_key = ? LIMIT 100`,
  /** The newest `limit` deliveries by knocker_deliveries_received, filtered: bounded work, whatever the file's size. */
  recentDeliveriesByProviderId: `SELECT r.event_id AS eventId, r.id AS deliveryId, k.name AS endpoint,
      CASE WHEN r.provider_event_id = @text THEN 'provider event id' ELSE 'provider delivery id' END AS "match"
    FROM (SELECT id, endpoint_id, event_id, provider_event_id, provider_delivery_id FROM knocker_deliveries
          ORDER BY received_at DESC, id DESC LIMIT @limit) r
    JOIN knocker_endpoints k ON k.id = r.endpoint_id
    WHERE r.provider_event_id = @text OR r.provider_delivery_id = @text ORDER BY r.id DESC LIMIT 20`,
} as const;

export type Plan = pages.Plan;

const SQLITE: pages.SqlTarget = { prefix: "", dialect: "sqlite" };

/** One page of events, newest first: `everyEndpoint` is every endpoint's id. */
export function eventPagePlan(selection: EventSelection, everyEndpoint: readonly number[], limit: number, text: number, after?: PageCursor): Plan {
  return pages.eventPagePlan(SQLITE, selection, everyEndpoint, limit, text, after);
}

/** Oldest first: the ids a bulk action takes, and (separately) how many match up to a cap. */
export function selectionPlans(selection: EventSelection, everyEndpoint: readonly number[], limit: number, throughId: number | undefined, countCap: number): { ids: Plan; count: Plan } {
  return pages.selectionPlans(SQLITE, selection, everyEndpoint, limit, throughId, countCap);
}

/** Deliveries newest first, by kind and endpoint. */
export function deliveryPagePlan(selection: DeliverySelection, endpointIds: readonly number[], limit: number, text: number, after?: PageCursor): Plan {
  return pages.deliveryPagePlan(SQLITE, selection, endpointIds, limit, text, after);
}
