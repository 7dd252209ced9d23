// Selections of events (or deliveries) in received_at order, the same on every engine, each one a set of index ranges walked
// in order and merged. SQLite walks one range of an index in order, but not several: asked for
// `status IN (a, b) ORDER BY received_at LIMIT n`, it reads every entry of both ranges and sorts
// them. Walking each range to `@limit` entries and merging the walks reads at most
// ranges × limit entries, whatever the table holds (eventRanges names the two ranges that skip
// rows). Used by the dashboard's pages and bulk selections, the operator's listEvents and
// retention's prune.
import type { EventStatus } from "../interfaces.js";

/**
 * The statuses knocker_events_type_unsettled holds, as its WHERE, repeated in each query so the
 * planner may use it. Two inequalities, not `status IN (…)`: SQLite evaluates a partial index's
 * WHERE on every insert and every update of `status`, and an IN list costs ~1 µs there
 * (measured), more than the index itself.
 */
export const UNSETTLED_STATUSES = `status <> 'received' AND status <> 'handled'`;

export const ALL_STATUSES: readonly EventStatus[] = ["received", "processing", "handled", "failed", "dead", "ignored"];

/** One range: an index and the equality conditions on its leading columns; received_at and the rowid follow in every key. */
export interface Range {
  index: string;
  where: readonly string[];
}

export interface EventRangeSelection {
  /** Any of these statuses; undefined: every status. */
  statuses?: readonly EventStatus[];
  endpointId?: number;
  eventType?: string;
}

/**
 * The ranges that hold the events of a selection; their parameters go into `params`:
 * - a type: knocker_events_type, or for a status an event reaches only when something went wrong
 *   or an operator stepped in, knocker_events_type_unsettled (the endpoint, if any, filters);
 *   "received" and "handled" walk the type's range and skip the other statuses — handled events
 *   are most of an inbox and received ones its newest, so few are skipped;
 * - an endpoint: knocker_events_endpoint_status, one range per status;
 * - statuses only: knocker_events_endpoint_status, one range per endpoint of `everyEndpoint` and status;
 * - nothing: knocker_events_received.
 */
export function eventRanges(selection: EventRangeSelection, everyEndpoint: readonly number[], params: Record<string, unknown>): Range[] {
  const statuses = selection.statuses ?? ALL_STATUSES;
  if (selection.eventType !== undefined) {
    params.type = selection.eventType;
    const where = ["event_type = @type"];
    if (selection.endpointId !== undefined) (where.push("endpoint_id = @endpoint"), (params.endpoint = selection.endpointId));
    if (selection.statuses === undefined) return [{ index: "knocker_events_type", where }];
    return statuses.map((status, i) => {
      params[`status${i}`] = status;
      return UNSETTLED.has(status)
        ? { index: "knocker_events_type_unsettled", where: [...where, `status = @status${i}`, UNSETTLED_STATUSES] }
        : { index: "knocker_events_type", where: [...where, `status = @status${i}`] };
    });
  }
  statuses.forEach((status, i) => (params[`status${i}`] = status));
  if (selection.endpointId !== undefined) {
    params.endpoint = selection.endpointId;
    return statuses.map((_, i) => ({ index: "knocker_events_endpoint_status", where: ["endpoint_id = @endpoint", `status = @status${i}`] }));
  }
  if (selection.statuses === undefined) return [{ index: "knocker_events_received", where: [] }];
  return everyEndpoint.flatMap((id, e) => {
    params[`endpoint${e}`] = id;
    return statuses.map((_, i) => ({ index: "knocker_events_endpoint_status", where: [`endpoint_id = @endpoint${e}`, `status = @status${i}`] }));
  });
}

/** The statuses knocker_events_type_unsettled holds; its WHERE is repeated in each query, so the planner may use it. */
const UNSETTLED: ReadonlySet<EventStatus> = new Set(["processing", "failed", "dead", "ignored"]);

/**
 * `id, received_at` of the first `@limit` rows over `ranges` within `bounds`, newest first
 * ("DESC") or oldest first ("ASC"), ties broken by id. No range: no rows. Parameters are named
 * (@name): Postgres plans bind them by position (postgres/queries.ts positional()).
 */
export function walkRanges(table: string, ranges: readonly Range[], bounds: readonly string[], order: "ASC" | "DESC", dialect: "sqlite" | "postgres" = "sqlite"): string {
  const by = `ORDER BY received_at ${order}, id ${order}`;
  if (ranges.length === 0) return `SELECT id, received_at FROM ${table} WHERE false`;
  // SQLite is told the index of each range; Postgres's planner picks it (and merges the walks).
  const hint = (index: string) => (dialect === "sqlite" ? ` INDEXED BY ${index}` : "");
  const walks = ranges.map(({ index, where }, i) => {
    const all = [...where, ...bounds];
    return `SELECT * FROM (SELECT id, received_at FROM ${table}${hint(index)}
      ${all.length > 0 ? `WHERE ${all.join(" AND ")}` : ""} ${by} LIMIT @limit) AS walk${i}`;
  });
  return `${walks.join(" UNION ALL ")} ${by} LIMIT @limit`;
}

/**
 * The operator's listEvents() page, newest first, ties broken by id: the filter's ranges walked
 * and merged below the cursor. `endpointId` is the filter's endpoint, looked up by name.
 */
export function eventListWalk(
  table: string,
  filter: { status?: EventStatus; eventType?: string; since?: number },
  endpointId: number | undefined,
  everyEndpoint: readonly number[],
  limit: number,
  after: { receivedAt: number; id: number } | undefined,
  dialect: "sqlite" | "postgres" = "sqlite",
): { page: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { limit };
  const statuses = filter.status === undefined ? undefined : [filter.status];
  const ranges = eventRanges({ statuses, endpointId, eventType: filter.eventType }, everyEndpoint, params);
  const bounds: string[] = [];
  if (filter.since !== undefined) (bounds.push("received_at >= @since"), (params.since = filter.since));
  if (after !== undefined) (bounds.push("(received_at, id) < (@afterAt, @afterId)"), (params.afterAt = after.receivedAt), (params.afterId = after.id));
  return { page: walkRanges(table, ranges, bounds, "DESC", dialect), params };
}

/**
 * What a prune of `statuses` older than `olderThan` takes: `ids`, the oldest `limit` events, ties
 * broken by id (every endpoint's range of each status walked to `limit` and merged, so a batch
 * reads at most endpoints × statuses × limit index entries however large the backlog), and
 * `count`, how many it would take up to `limit` (the number a prune's confirmation names).
 */
export function prunablePlans(
  table: string,
  statuses: readonly EventStatus[],
  everyEndpoint: readonly number[],
  olderThan: number,
  limit: number,
  dialect: "sqlite" | "postgres" = "sqlite",
): { ids: string; count: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { olderThan, limit, cap: limit };
  const ranges = eventRanges({ statuses }, everyEndpoint, params);
  const bounds = ["received_at < @olderThan"];
  return { ids: walkRanges(table, ranges, bounds, "ASC", dialect), count: countRanges(table, ranges, bounds, dialect), params };
}

/** How many rows the ranges hold within `bounds`, counting each range up to `@cap` (the sum capped too). */
export function countRanges(table: string, ranges: readonly Range[], bounds: readonly string[], dialect: "sqlite" | "postgres" = "sqlite"): string {
  if (ranges.length === 0) return "SELECT 0 AS n";
  const hint = (index: string) => (dialect === "sqlite" ? ` INDEXED BY ${index}` : "");
  const counts = ranges.map(({ index, where }, i) => {
    const all = [...where, ...bounds];
    return `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${table}${hint(index)} ${all.length > 0 ? `WHERE ${all.join(" AND ")}` : ""} LIMIT @cap) AS range${i}`;
  });
  // SQLite's two-argument MIN is Postgres's LEAST; Postgres sums bigints as numeric.
  const capped = dialect === "sqlite" ? "MIN(SUM(n), @cap)" : "LEAST(COALESCE(SUM(n), 0), CAST(@cap AS bigint))::bigint";
  return `SELECT ${capped} AS n FROM (${counts.join(" UNION ALL ")}) AS counts`;
}
