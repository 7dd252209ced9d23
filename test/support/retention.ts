// Rows for the retention tests, written with direct SQL in one transaction (what a long-running
// inbox accumulates): settled events with deliveries, attempts and optionally a queued job, and
// orphan deliveries. Returns exactly what was written, for the accounting assertions.
import type { SqliteDatabase } from "../../src/index.js";

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

export function seedPrunable(db: SqliteDatabase, spec: SeedSpec): Seeded {
  const { endpointId, receivedAt, handled = 0, ignored = 0, orphans = 0, deliveriesPerEvent = 1, attemptsPerEvent = 1 } = spec;
  const queue = spec.queue ?? "knocker.events";
  const event = db.prepare(`INSERT INTO knocker_events (endpoint_id, received_at, event_type, method, headers_json, body_blob, query_json,
      dedupe_key, status, attempt_count, handled_at)
    VALUES (?, ?, 'seeded', 'POST', '{}', ?, '{}', ?, ?, ?, ?)`);
  const delivery = db.prepare(`INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, event_type, method, headers_json,
      body_blob, query_json, signature_valid, signature_error, dedupe_key)
    VALUES (?, ?, ?, 'seeded', 'POST', '{}', ?, '{}', ?, ?, ?)`);
  const attempt = db.prepare("INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) VALUES (?, ?, ?, NULL, 1)");
  const job = db.prepare("INSERT INTO _honker_live (queue, payload, state, run_at, created_at) VALUES (?, ?, 'pending', ?, ?)");
  const seeded: Seeded = { events: 0, deliveries: 0, attempts: 0, liveJobs: 0, orphans: 0 };
  db.transaction(() => {
    const add = (status: "handled" | "ignored") => {
      const key = `seed-${process.pid}-${serial++}`;
      const body = Buffer.from(JSON.stringify({ key }));
      const id = Number(event.run(endpointId, receivedAt, body, key, status, attemptsPerEvent, status === "handled" ? receivedAt : null).lastInsertRowid);
      for (let d = 0; d < deliveriesPerEvent; d++) delivery.run(endpointId, id, receivedAt, body, 1, null, key);
      for (let a = 0; a < attemptsPerEvent; a++) attempt.run(id, receivedAt, a === attemptsPerEvent - 1 ? status : "failed");
      seeded.events++;
      seeded.deliveries += deliveriesPerEvent;
      seeded.attempts += attemptsPerEvent;
      if (status === "ignored") {
        job.run(queue, JSON.stringify({ event_id: id }), receivedAt + 1_000_000, receivedAt);
        seeded.liveJobs++;
      }
    };
    for (let i = 0; i < handled; i++) add("handled");
    for (let i = 0; i < ignored; i++) add("ignored");
    for (let i = 0; i < orphans; i++) {
      delivery.run(endpointId, null, receivedAt, Buffer.from("{}"), 0, "signature mismatch", null);
      seeded.orphans++;
    }
  }).immediate();
  return seeded;
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
