import type { Database } from "better-sqlite3";
import type { EndpointRegistry } from "../../endpoints.js";
import { KnockerError } from "../../errors.js";
import type { Event, Finalizer, Handler, HandlerTx } from "../../interfaces.js";
import type { Queue } from "./queue.js";
import type { ClaimedJob, JobStore } from "../store.js";
import { errorMessage, lost, type JobOutcome, type StartedJob } from "../../worker/outcomes.js";
import { immediateTransaction } from "./connection.js";
import type { EventStatements } from "./plans/events.js";
import { toEvent, type DeliveryRow, type EventRow } from "../rows.js";
import { createHandlerTx, requireTransaction } from "./handler-tx.js";
import { msUntil } from "../../jobs/loop.js";
import { finalClaimExpired, isRunnable, isThenable, lostAttempts, MALFORMED_PAYLOAD, noHandler, parseJobPayload } from "../../worker/dispatch-rules.js";

class ClaimLost extends Error {}

/**
 * Claims jobs and runs their handlers. A batch of claimed jobs shares one transaction; each job
 * runs inside a SAVEPOINT, so the handler's writes, the event's transition, the attempt row and
 * the queue ack commit together — or, when the handler throws, roll back together before the
 * failure itself is recorded.
 */
export class Dispatcher implements JobStore {
  readonly #db: Database;
  readonly #queue: Queue;
  readonly #events: EventStatements;
  readonly #endpoints: EndpointRegistry;
  readonly #now: () => number;
  readonly #tx: HandlerTx;
  readonly #runHandled: (job: ClaimedJob, handler: Handler, event: Event) => void;
  readonly #runFinalizer: (finalizer: Finalizer) => void;
  readonly #onKeyMoved: () => void;
  /** Set inside a transaction that recorded an outcome of a keyed event (see #write). */
  #keyMoved = false;

  /**
   * `onKeyMoved`: called after a commit that recorded an attempt of an event with an ordering key
   * — the next event of its key may be claimable now — to wake this process's idle workers (other
   * processes see the commit through their change feed).
   */
  constructor(db: Database, queue: Queue, events: EventStatements, endpoints: EndpointRegistry, now: () => number, onKeyMoved: () => void) {
    this.#onKeyMoved = onKeyMoved;
    this.#db = db;
    this.#queue = queue;
    this.#events = events;
    this.#endpoints = endpoints;
    this.#now = now;
    this.#tx = createHandlerTx(db);
    // Nested inside the batch transaction, better-sqlite3 runs this as a SAVEPOINT.
    this.#runHandled = db.transaction((job: ClaimedJob, handler: Handler, event: Event) => this.#handle(job, handler, event));
    this.#runFinalizer = db.transaction((finalizer: Finalizer) => {
      const returned: unknown = finalizer(this.#tx);
      if (isThenable(returned)) {
        returned.then(undefined, () => {});
        throw new KnockerError("ERR_ASYNC_HANDLER", "the finalizer returned a Promise: a finalizer runs inside the write transaction and must be synchronous (await in the handler, before returning it)");
      }
      requireTransaction(this.#db);
    });
  }

  /** False once the connection is closed (Knocker.close()): the loop must end. */
  get isOpen(): boolean {
    return this.#db.open;
  }

  /** True when a claim pass could find work; a cheap read that keeps idle workers off the write lock. */
  hasDueWork(): boolean {
    const due = this.#queue.nextDueAt();
    return due !== null && due <= this.#now();
  }

  /** Milliseconds until the next job becomes claimable (Infinity when the queue is empty). */
  msUntilDue(): number {
    const due = this.#queue.nextDueAt();
    return due === null ? Number.POSITIVE_INFINITY : msUntil(due, this.#now());
  }

  /** Dead-letter claims that expired on their last attempt, then claim up to `limit` jobs. */
  claim(workerId: string, limit: number): ClaimedJob[] {
    return this.#write("claiming jobs", () => this.#claimInTransaction(workerId, limit));
  }

  #claimInTransaction(workerId: string, limit: number): ClaimedJob[] {
    const now = this.#now();
    for (const job of this.#queue.expiredFinalClaims(now)) {
      const error = finalClaimExpired(job);
      const payload = parseJobPayload(job.payload);
      const row = payload ? (this.#events.getEvent.get(payload.eventId) as EventRow | undefined) : undefined;
      if (row) {
        this.#recordLostAttempts(job, row, now);
        this.#recordUnhandled(row.id, "dead", error, null, now);
      }
      this.#queue.deadLetter(job.id, error, now);
    }
    return this.#queue.claim(workerId, limit, now);
  }

  /**
   * Run a claimed batch in one transaction. With `claimNext`, the same commit also claims the
   * following batch: the claims are durable before their handlers run (so a handler that kills
   * the process still uses up an attempt), yet a busy worker pays one commit per batch, not two.
   */
  runBatch(
    jobs: readonly ClaimedJob[],
    onJob: (eventId: number | null) => void,
    claimNext?: { workerId: string; limit: number; asyncRoom: number },
  ): { outcomes: JobOutcome[]; next: ClaimedJob[] } {
    const outcomes: JobOutcome[] = [];
    let next: ClaimedJob[] = [];
    try {
      this.#write("recording handler outcomes", () => {
        outcomes.length = 0;
        for (const job of jobs) outcomes.push(this.#dispatch(job, onJob));
        // Async handlers started by this batch take room the next batch may not claim.
        const room = claimNext ? Math.min(claimNext.limit, claimNext.asyncRoom - outcomes.filter((o) => o.kind === "started").length) : 0;
        next = room > 0 ? this.#claimInTransaction(claimNext!.workerId, room) : [];
      });
    } finally {
      onJob(null);
    }
    return { outcomes, next };
  }

  /**
   * Give back claims whose handlers never ran (the batch rolled back, or the Knocker is closing),
   * so they neither wait out the visibility timeout nor use up an attempt. Best effort: if even
   * this write fails (the disk is still full), the claims expire as usual.
   */
  release(jobs: readonly ClaimedJob[]): void {
    if (jobs.length === 0 || !this.#db.open || this.#db.inTransaction) return;
    try {
      immediateTransaction(this.#db, "releasing claims", () => this.#queue.releaseClaims(jobs));
    } catch {
      // expiry takes over
    }
  }

  #dispatch(job: ClaimedJob, onJob: (eventId: number | null) => void): JobOutcome {
    const now = this.#now();
    const payload = parseJobPayload(job.payload);
    if (!payload) {
      this.#queue.deadLetter(job.id, MALFORMED_PAYLOAD, now);
      return { kind: "skipped", eventId: null };
    }
    const { eventId } = payload;
    onJob(eventId);
    if (!this.#queue.renewClaim(job, now)) return lost(job, eventId);

    const row = this.#events.getEvent.get(eventId) as EventRow | undefined;
    if (!row || !isRunnable(row.status)) {
      // Ignored, pruned, or already settled: nothing to run.
      this.#queue.ack(job.id);
      return { kind: "skipped", eventId };
    }
    const current = this.#recordLostAttempts(job, row, now);
    const event = this.#handlerView(current, payload.deliveryId);
    const handler = this.#endpoints.handlerFor(current.endpoint, event.eventType);
    if (!handler) {
      const error = noHandler(row.endpoint, event.eventType);
      this.#recordUnhandled(eventId, "dead", error, null, now);
      this.#queue.deadLetter(job.id, error, now);
      return { kind: "dead", eventId, error: new KnockerError("ERR_NO_HANDLER", error) };
    }

    // An async handler runs once this claim has committed; its claim was just renewed.
    if (!handler.transaction) return { kind: "started", eventId, started: { job, event, handler } };

    const started = performance.now();
    try {
      this.#runHandled(job, handler.fn, event);
      return { kind: "handled", eventId };
    } catch (error) {
      // SQLite abandons the whole transaction on some errors (SQLITE_FULL, I/O errors): nothing of
      // this batch can commit any more, so stop here; every claim of the batch will expire and retry.
      if (!this.#db.inTransaction) throw error;
      if (error instanceof ClaimLost) return lost(job, eventId);
      return this.#recordFailure(job, eventId, error, Math.round(performance.now() - started));
    }
  }

  /** Inside a transaction: the attempt failed; retry after the backoff, or dead-letter the last one. */
  #recordFailure(job: ClaimedJob, eventId: number, error: unknown, durationMs: number | null): JobOutcome {
    const failedAt = this.#now();
    if (!this.#queue.stillClaimed(job, failedAt)) return lost(job, eventId);
    const message = errorMessage(error);
    if (job.attempts >= job.maxAttempts) {
      this.#recordUnhandled(eventId, "dead", message, durationMs, failedAt);
      this.#queue.deadLetter(job.id, message, failedAt);
      return { kind: "dead", eventId, error };
    }
    this.#recordUnhandled(eventId, "failed", message, durationMs, failedAt);
    this.#queue.retry(job, failedAt);
    return { kind: "failed", eventId, error };
  }

  /**
   * An async handler resolved: in one transaction, run its finalizer (in a SAVEPOINT), mark the
   * event handled and ack, provided the claim is still this worker's. A throwing finalizer rolls
   * back its own writes and fails the attempt instead.
   */
  finishAsync({ job, event }: StartedJob, finalizer: Finalizer | undefined, durationMs: number): JobOutcome {
    return this.#write("recording handler outcomes", () => {
      const now = this.#now();
      const row = this.#events.getEvent.get(event.id) as EventRow | undefined;
      if (!row || !isRunnable(row.status)) {
        // Ignored or pruned while the handler ran (that removed its job): nothing to record.
        if (this.#queue.stillClaimed(job, now)) this.#queue.ack(job.id);
        return { kind: "skipped", eventId: event.id };
      }
      if (!this.#queue.stillClaimed(job, now)) return lost(job, event.id);
      if (finalizer !== undefined) {
        try {
          this.#runFinalizer(finalizer);
        } catch (error) {
          if (!this.#db.inTransaction) throw error;
          return this.#recordFailure(job, event.id, error, durationMs);
        }
      }
      this.#events.markHandled.run(now, event.id);
      this.#events.insertAttempt.run(event.id, now, "handled", null, durationMs);
      this.#queue.ack(job.id);
      if (row.ordering_key !== null) this.#keyMoved = true;
      return { kind: "handled", eventId: event.id };
    });
  }

  /** An async handler threw, rejected or timed out: record the failed attempt. */
  failAsync({ job, event }: StartedJob, error: unknown, durationMs: number): JobOutcome {
    return this.#write("recording handler outcomes", () => this.#recordFailure(job, event.id, error, durationMs));
  }

  /** Heartbeat of a running async handler: a fresh visibility window; false when the claim is gone. */
  extendClaim(job: ClaimedJob): boolean {
    if (!this.#db.open) return false;
    return immediateTransaction(this.#db, "renewing a claim", () => this.#queue.extendClaim(job, this.#now()));
  }

  #handle(job: ClaimedJob, handler: Handler, event: Event): void {
    const started = performance.now();
    const returned: unknown = handler(event, this.#tx);
    if (isThenable(returned)) {
      returned.then(undefined, () => {}); // its outcome can no longer matter
      throw new KnockerError(
        "ERR_ASYNC_HANDLER",
        "handler returned a Promise: a transactional handler runs inside the write transaction and must be synchronous; " +
          "register an async handler with handle(type, fn, { transaction: false })",
      );
    }
    requireTransaction(this.#db); // a handler that swallowed a storage failure must not commit alone
    const now = this.#now();
    if (!this.#queue.stillClaimed(job, now)) throw new ClaimLost();
    this.#events.markHandled.run(now, event.id);
    this.#events.insertAttempt.run(event.id, now, "handled", null, Math.round(performance.now() - started));
    this.#queue.ack(job.id);
    if (event.orderingKey !== null) this.#keyMoved = true;
  }

  /**
   * Claims of this job that expired without an outcome (the worker died, or its handler outran
   * visibilityTimeoutS) left no trace: their transactions never committed. The queue counted
   * them, so record every claim before this one that has no attempt row as a failed attempt,
   * keeping the event's attempt_count equal to the attempts it has used.
   */
  #recordLostAttempts(job: ClaimedJob, row: EventRow, now: number): EventRow {
    if (!isRunnable(row.status)) return row;
    const lost = lostAttempts(job, row.attempt_count);
    if (lost.length === 0) return row; // the usual case: nothing was lost
    for (const { error } of lost) {
      this.#events.markUnhandled.run("failed", 1, error, row.id);
      this.#events.insertAttempt.run(row.id, now, "failed", error, null);
    }
    return this.#events.getEvent.get(row.id) as EventRow;
  }

  #recordUnhandled(eventId: number, outcome: "failed" | "dead", error: string, durationMs: number | null, now: number): void {
    const row = this.#events.getEvent.get(eventId) as EventRow | undefined;
    if (!row || !isRunnable(row.status)) return;
    this.#events.markUnhandled.run(outcome, 1, error, eventId);
    this.#events.insertAttempt.run(eventId, now, outcome, error, durationMs);
    if (row.ordering_key !== null) this.#keyMoved = true;
  }

  /** A write transaction; after its commit, idle workers are woken if it moved a key along. */
  #write<T>(action: string, fn: () => T): T {
    this.#keyMoved = false;
    const result = immediateTransaction(this.#db, action, fn);
    if (this.#keyMoved) {
      this.#keyMoved = false;
      this.#onKeyMoved();
    }
    return result;
  }

  /** The event as the handler sees it; a delivery replay swaps in that delivery's payload. */
  #handlerView(row: EventRow, deliveryId: number | null): Event {
    const event = toEvent(row);
    if (deliveryId === null) return event;
    const deliveryRow = this.#events.getDelivery.get(deliveryId) as DeliveryRow | undefined;
    if (!deliveryRow || deliveryRow.event_id !== row.id) return event;
    return toEvent({ ...row, ...deliveryRow, id: row.id, endpoint_id: row.endpoint_id }, deliveryRow.id);
  }
}
