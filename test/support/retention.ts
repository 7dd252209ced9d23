// Rows for the retention tests, written with direct SQL in one transaction (what a long-running
// inbox accumulates), on either engine: settled events with deliveries, attempts and optionally
// a queued job, and orphan deliveries. Set-wise statements (a counter from a recursive CTE), so a
// few thousand rows cost a handful of statements on Postgres too. Returns exactly what was
// written, for the accounting assertions.
import type { TableReader } from "./engines.js";

export interface SeedSpec {
  endpointId: number;
  receivedAt: number;
  /** Handled events, each with `deliveriesPerEvent` deliveries and `attemptsPerEvent` attempts. */
  handled?: number;
  /** Ignored events, each with the same rows plus a pending job on `queue` (ignore() leaves the job). */
  ignored?: number;
  orphans?: number;
  deliveriesPerEvent?: number;
  attemptsPerEvent?: number;
  queue?: string;
}

export interface Seeded {
  events: number;
  deliveries: number;
  attempts: number;
  liveJobs: number;
  orphans: number;
}

let serial = 0;

const counter = (name: string) => `WITH RECURSIVE ${name}(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM ${name} WHERE i < CAST(? AS INTEGER))`;

/** `engine`: how the dialects spell text as a blob. */
export async function seedPrunable(sql: TableReader, engine: "sqlite" | "postgres", spec: SeedSpec): Promise<Seeded> {
  const { endpointId, receivedAt, handled = 0, ignored = 0, orphans = 0, deliveriesPerEvent = 1, attemptsPerEvent = 1 } = spec;
  const queue = spec.queue ?? "knocker.events";
  const blob = (text: string) => (engine === "sqlite" ? `CAST(${text} AS BLOB)` : `convert_to(${text}, 'UTF8')`);
  const prefix = `seed-${process.pid}-${serial++}-`;
  const ofThisSeed = `e.dedupe_key LIKE '${prefix}%'`;
  const statements: Array<[string, ...unknown[]]> = [];
  const events = (count: number, status: "handled" | "ignored", first: number) => {
    if (count === 0) return;
    statements.push([
      `${counter("n")}
      INSERT INTO knocker_events (endpoint_id, received_at, event_type, method, headers_json, body_blob, query_json, dedupe_key, status,
        attempt_count, handled_at)
      SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), 'seeded', 'POST', '{}', ${blob(`'{"key":"${prefix}' || CAST(i + ${first} AS TEXT) || '"}'`)}, '{}',
        '${prefix}' || CAST(i + ${first} AS TEXT), '${status}', CAST(? AS INTEGER), CAST(? AS BIGINT) FROM n ORDER BY i`,
      count, endpointId, receivedAt, attemptsPerEvent, status === "handled" ? receivedAt : null,
    ]);
  };
  // Handled events first, then the ignored ones (ids in that order, as the tests expect).
  events(handled, "handled", 0);
  events(ignored, "ignored", handled);
  if (handled + ignored > 0 && deliveriesPerEvent > 0) {
    statements.push([
      `${counter("c")}
      INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, event_type, method, headers_json, body_blob, query_json,
        signature_valid, signature_error, dedupe_key)
      SELECT e.endpoint_id, e.id, e.received_at, 'seeded', 'POST', '{}', e.body_blob, '{}', 1, NULL, e.dedupe_key
      FROM knocker_events e CROSS JOIN c WHERE ${ofThisSeed} ORDER BY e.id, c.i`,
      deliveriesPerEvent,
    ]);
  }
  if (handled + ignored > 0 && attemptsPerEvent > 0) {
    statements.push([
      `${counter("c")}
      INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms)
      SELECT e.id, e.received_at, CASE WHEN c.i = CAST(? AS INTEGER) THEN e.status ELSE 'failed' END, NULL, 1
      FROM knocker_events e CROSS JOIN c WHERE ${ofThisSeed} ORDER BY e.id, c.i`,
      attemptsPerEvent, attemptsPerEvent,
    ]);
  }
  if (ignored > 0) {
    statements.push([
      `INSERT INTO _honker_live (queue, payload, state, run_at, created_at)
      SELECT CAST(? AS TEXT), '{"event_id":' || CAST(e.id AS TEXT) || '}', 'pending', e.received_at + 1000000, e.received_at
      FROM knocker_events e WHERE ${ofThisSeed} AND e.status = 'ignored' ORDER BY e.id`,
      queue,
    ]);
  }
  if (orphans > 0) {
    statements.push([
      `${counter("n")}
      INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, event_type, method, headers_json, body_blob, query_json,
        signature_valid, signature_error, dedupe_key)
      SELECT CAST(? AS BIGINT), NULL, CAST(? AS BIGINT), 'seeded', 'POST', '{}', ${blob("'{}'")}, '{}', 0, 'signature mismatch', NULL FROM n ORDER BY i`,
      orphans, endpointId, receivedAt,
    ]);
  }
  await sql.batch(statements);
  const events_ = handled + ignored;
  return { events: events_, deliveries: events_ * deliveriesPerEvent, attempts: events_ * attemptsPerEvent, liveJobs: ignored, orphans };
}

export function addSeeded(a: Seeded, b: Seeded): Seeded {
  return {
    events: a.events + b.events,
    deliveries: a.deliveries + b.deliveries,
    attempts: a.attempts + b.attempts,
    liveJobs: a.liveJobs + b.liveJobs,
    orphans: a.orphans + b.orphans,
  };
}

export const NOTHING_SEEDED: Seeded = { events: 0, deliveries: 0, attempts: 0, liveJobs: 0, orphans: 0 };
