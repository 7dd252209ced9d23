import type { EndpointRegistry } from "../../endpoints.js";
import { KnockerError } from "../../errors.js";
import type { Event, Finalizer, PostgresHandlerTx, RetryBackoff } from "../../interfaces.js";
import { msUntil } from "../../jobs/loop.js";
import { retryDelayS } from "../../worker/backoff.js";
import { finalClaimExpired, isRunnable, lostAttempts, MALFORMED_PAYLOAD, noHandler, parseJobPayload, type JobPayload } from "../../worker/dispatch-rules.js";
import { errorMessage, lost, type JobOutcome, type StartedJob } from "../../worker/outcomes.js";
import { toClaimedJob as toJob, toEvent, type EventRow, type JobRow } from "../rows.js";
import type { ClaimedJob, JobStore } from "../store.js";
import type { PgClient } from "./driver.js";
import { jobPlans, type JobPlans } from "./plans/jobs.js";
import type { Query } from "./queries.js";
import type { PgSession } from "./session.js";

/** What a transactional handler gets on Postgres (the public PostgresHandlerTx). */
export type PgHandlerTx = PostgresHandlerTx;

export interface PgJobConfig {
  quotedSchema: string;
  /** The inbox's NOTIFY channel: work that becomes due wakes idle workers on every node. */
  channel: string;
  queueName: string;
  visibilityTimeoutS: number;
  retryBackoff: RetryBackoff | false;
}

/**
 * The queue and the worker's transactions on Postgres. A batch of claimed jobs shares one
 * transaction; each job runs inside a SAVEPOINT, so a transactional handler's queries, the
 * event's transition, the attempt row and the ack commit together — or, when the handler throws,
 * roll back together before the failure is recorded. Claims use FOR UPDATE SKIP LOCKED, so
 * workers on several nodes take different jobs without waiting for each other.
 */
export class PgJobStore implements JobStore {
  readonly #session: PgSession;
  readonly #query: Query;
  readonly #sql: JobPlans;
  readonly #config: PgJobConfig;
  readonly #endpoints: EndpointRegistry;
  readonly #now: () => number;
  #open = true;
  readonly #releases = new Set<Promise<void>>();

  constructor(session: PgSession, config: PgJobConfig, endpoints: EndpointRegistry, now: () => number) {
    this.#session = session;
    this.#query = session.query;
    this.#sql = jobPlans(config.quotedSchema);
    this.#config = config;
    this.#endpoints = endpoints;
    this.#now = now;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  close(): void {
    this.#open = false;
  }

  async hasDueWork(): Promise<boolean> {
    return this.#read(async (client) => (await this.#query<{ due: boolean }>(client, this.#sql.hasDue, [this.#config.queueName, this.#now()])).rows[0]!.due);
  }

  async msUntilDue(): Promise<number> {
    const due = await this.#read(async (client) => (await this.#query<{ due: number | null }>(client, this.#sql.nextDueAt, [this.#config.queueName])).rows[0]!.due);
    return due === null ? Number.POSITIVE_INFINITY : msUntil(due, this.#now());
  }

  claim(workerId: string, limit: number): Promise<ClaimedJob[]> {
    return this.#transaction("claiming jobs", (client) => this.#claimIn(client, workerId, limit));
  }

  /** Run a claimed batch in one transaction; with `claimNext`, the same commit claims the next batch. */
  async runBatch(
    jobs: readonly ClaimedJob[],
    onJob: (eventId: number | null) => void,
    claimNext?: { workerId: string; limit: number; asyncRoom: number },
  ): Promise<{ outcomes: JobOutcome[]; next: ClaimedJob[] }> {
    try {
      return await this.#transaction("recording handler outcomes", async (client) => {
        const outcomes = await this.#runAll(client, jobs, onJob);
        const room = claimNext ? Math.min(claimNext.limit, claimNext.asyncRoom - outcomes.filter((o) => o.kind === "started").length) : 0;
        const next = room > 0 ? await this.#claimIn(client, claimNext!.workerId, room) : [];
        return { outcomes, next };
      });
    } finally {
      onJob(null);
    }
  }

  finishAsync({ job, event }: StartedJob, finalizer: Finalizer | undefined, durationMs: number): Promise<JobOutcome> {
    return this.#transaction("recording handler outcomes", async (client) => {
      const now = this.#now();
      const row = await this.#event(client, event.id);
      if (!row || !isRunnable(row.status)) {
        if (await this.#stillClaimed(client, job, now)) await this.#query(client, this.#sql.ack, [job.id]);
        return { kind: "skipped", eventId: event.id };
      }
      if (!(await this.#stillClaimed(client, job, now))) return lost(job, event.id);
      if (finalizer !== undefined) {
        const savepoint = new LazySavepoint(client);
        try {
          await (finalizer as unknown as (tx: PgHandlerTx) => unknown)(savepoint.tx);
          await savepoint.release();
        } catch (error) {
          await savepoint.rollback();
          return this.#recordFailure(client, job, event.id, error, durationMs);
        }
      }
      await this.#query(client, this.#sql.settleBatch, [[job.id], [event.id], [durationMs], now, this.#config.channel]);
      return { kind: "handled", eventId: event.id };
    });
  }

  failAsync({ job, event }: StartedJob, error: unknown, durationMs: number): Promise<JobOutcome> {
    return this.#transaction("recording handler outcomes", (client) => this.#recordFailure(client, job, event.id, error, durationMs));
  }

  async extendClaim(job: ClaimedJob): Promise<boolean> {
    if (!this.#open) return false;
    const now = this.#now();
    return this.#read(async (client) =>
      (await this.#query(client, this.#sql.extendClaim, [this.#claimExpiry(now), job.id, job.workerId, job.attempts, now])).rowCount === 1);
  }

  /** Also after close(): the engine waits for these (settled()) before it ends the pool. */
  release(jobs: readonly ClaimedJob[]): Promise<void> {
    if (jobs.length === 0) return Promise.resolve();
    const released = this.#transaction("handing claims back", async (client) => {
      for (const job of jobs) await this.#query(client, this.#sql.releaseClaim, [job.id, job.workerId, job.attempts]);
      await this.#query(client, this.#sql.notify, [this.#config.channel]);
    });
    this.#releases.add(released);
    const forget = () => this.#releases.delete(released);
    released.then(forget, forget);
    return released;
  }

  /** Resolves once every claim hand-back started so far has ended. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#releases]);
  }

  async #claimIn(client: PgClient, workerId: string, limit: number): Promise<ClaimedJob[]> {
    const now = this.#now();
    const queue = this.#config.queueName;
    for (const job of (await this.#query<JobRow>(client, this.#sql.expiredFinalClaims, [queue, now])).rows.map(toJob)) {
      const error = finalClaimExpired(job);
      const payload = parseJobPayload(job.payload);
      const row = payload ? await this.#event(client, payload.eventId) : undefined;
      if (row) {
        await this.#recordLostAttempts(client, job, row, now);
        await this.#recordUnhandled(client, row.id, "dead", error, null, now);
      }
      await this.#query(client, this.#sql.deadLetter, [error, now, job.id]);
    }
    const claimed = await this.#query<JobRow>(client, this.#sql.claim, [queue, now, this.#claimExpiry(now), workerId, limit]);
    return claimed.rows.map(toJob).sort((a, b) => a.id - b.id);
  }

  /**
   * A batch set-wise, so its round trips do not grow with its size: one statement loads every
   * job's event and locks its claim (loadBatch), the handlers run in job order, one acks the jobs
   * that need nothing more and marks the handled ones (settleBatch). The rare paths — a failure,
   * attempts lost by earlier claims, no handler — take their own statements. A second job for an
   * event already in the round runs in the next round, so it sees what the first one did.
   */
  async #runAll(client: PgClient, jobs: readonly ClaimedJob[], onJob: (eventId: number | null) => void): Promise<JobOutcome[]> {
    const outcomes: JobOutcome[] = new Array(jobs.length);
    let waiting: Array<{ index: number; job: ClaimedJob; payload: JobPayload }> = [];
    for (const [index, job] of jobs.entries()) {
      const payload = parseJobPayload(job.payload);
      if (payload !== null) waiting.push({ index, job, payload });
      else {
        await this.#query(client, this.#sql.deadLetter, [MALFORMED_PAYLOAD, this.#now(), job.id]);
        outcomes[index] = { kind: "skipped", eventId: null };
      }
    }
    while (waiting.length > 0) {
      const events = new Set<number>();
      const round = new Set(waiting.filter(({ payload }) => !events.has(payload.eventId) && events.add(payload.eventId)));
      waiting = waiting.filter((entry) => !round.has(entry));
      await this.#runRound(client, round, outcomes, onJob);
    }
    return outcomes;
  }

  async #runRound(
    client: PgClient,
    entries: ReadonlySet<{ index: number; job: ClaimedJob; payload: JobPayload }>,
    outcomes: JobOutcome[],
    onJob: (eventId: number | null) => void,
  ): Promise<void> {
    const now = this.#now();
    const round = [...entries];
    const loaded = await this.#query<LoadedJobRow>(client, this.#sql.loadBatch, [
      round.map((r) => r.job.id),
      round.map((r) => r.job.workerId),
      round.map((r) => r.job.attempts),
      round.map((r) => r.payload.eventId),
      round.map((r) => r.payload.deliveryId),
    ]);
    const rows = new Map(loaded.rows.map((row) => [row.job_id, row]));
    const settle: BatchSettle = { acks: [], handledEvents: [], durations: [] };
    for (const { index, job, payload } of round) {
      onJob(payload.eventId);
      outcomes[index] = await this.#runLoaded(client, job, payload, rows.get(job.id)!, now, settle);
    }
    if (settle.acks.length > 0) {
      await this.#query(client, this.#sql.settleBatch, [settle.acks, settle.handledEvents, settle.durations, this.#now(), this.#config.channel]);
    }
  }

  async #runLoaded(client: PgClient, job: ClaimedJob, payload: JobPayload, loaded: LoadedJobRow, now: number, settle: BatchSettle): Promise<JobOutcome> {
    const { eventId } = payload;
    if (!loaded.held) return lost(job, eventId);
    if (loaded.id === null || !isRunnable(loaded.status)) {
      settle.acks.push(job.id);
      return { kind: "skipped", eventId };
    }
    const current = await this.#recordLostAttempts(client, job, loaded, now);
    const event = replayView(current, loaded);
    const handler = this.#endpoints.handlerFor(current.endpoint, event.eventType);
    if (!handler) {
      const error = noHandler(current.endpoint, event.eventType);
      await this.#recordUnhandled(client, eventId, "dead", error, null, now);
      await this.#query(client, this.#sql.deadLetter, [error, now, job.id]);
      return { kind: "dead", eventId, error: new KnockerError("ERR_NO_HANDLER", error) };
    }
    if (!handler.transaction) return { kind: "started", eventId, started: { job, event, handler } };

    const started = performance.now();
    const savepoint = new LazySavepoint(client);
    try {
      // On Postgres a transactional handler may await its queries on `tx`.
      await (handler.fn as unknown as (event: Event, tx: PgHandlerTx) => unknown)(event, savepoint.tx);
      await savepoint.release();
    } catch (error) {
      await savepoint.rollback();
      return this.#recordFailure(client, job, eventId, error, Math.round(performance.now() - started));
    }
    settle.acks.push(job.id);
    settle.handledEvents.push(eventId);
    settle.durations.push(Math.round(performance.now() - started));
    return { kind: "handled", eventId };
  }

  /** The attempt failed: retry after the backoff, or dead-letter the last one. */
  async #recordFailure(client: PgClient, job: ClaimedJob, eventId: number, error: unknown, durationMs: number | null): Promise<JobOutcome> {
    const failedAt = this.#now();
    if (!(await this.#stillClaimed(client, job, failedAt))) return lost(job, eventId);
    const message = errorMessage(error);
    if (job.attempts >= job.maxAttempts) {
      await this.#recordUnhandled(client, eventId, "dead", message, durationMs, failedAt);
      await this.#query(client, this.#sql.deadLetter, [message, failedAt, job.id]);
      return { kind: "dead", eventId, error };
    }
    await this.#recordUnhandled(client, eventId, "failed", message, durationMs, failedAt);
    await this.#query(client, this.#sql.retry, [failedAt + retryDelayS(this.#config.retryBackoff, job.attempts), job.id]);
    await this.#query(client, this.#sql.notify, [this.#config.channel]); // a retry due now wakes idle workers at the commit
    return { kind: "failed", eventId, error };
  }

  async #recordLostAttempts(client: PgClient, job: ClaimedJob, row: EventRow, now: number): Promise<EventRow> {
    if (!isRunnable(row.status)) return row;
    const attempts = lostAttempts(job, row.attempt_count);
    if (attempts.length === 0) return row;
    for (const { error } of attempts) {
      await this.#query(client, this.#sql.markUnhandled, ["failed", 1, error, row.id]);
      await this.#query(client, this.#sql.insertAttempt, [row.id, now, "failed", error, null]);
    }
    return (await this.#event(client, row.id))!;
  }

  async #recordUnhandled(client: PgClient, eventId: number, outcome: "failed" | "dead", error: string, durationMs: number | null, now: number): Promise<void> {
    const row = await this.#event(client, eventId);
    if (!row || !isRunnable(row.status)) return;
    await this.#query(client, this.#sql.markUnhandled, [outcome, 1, error, eventId]);
    await this.#query(client, this.#sql.insertAttempt, [eventId, now, outcome, error, durationMs]);
    // A dead keyed event releases the next one of its key, on any node (a failed one notifies with its retry).
    if (outcome === "dead" && row.ordering_key !== null) await this.#query(client, this.#sql.notify, [this.#config.channel]);
  }

  async #event(client: PgClient, id: number): Promise<EventRow | undefined> {
    return (await this.#query<EventRow & Record<string, unknown>>(client, this.#sql.getEvent, [id])).rows[0];
  }

  async #stillClaimed(client: PgClient, job: ClaimedJob, now: number): Promise<boolean> {
    return (await this.#query(client, this.#sql.stillClaimed, [job.id, job.workerId, job.attempts, now])).rowCount === 1;
  }

  /** As on SQLite: whole seconds, plus one so every claim lasts at least visibilityTimeoutS. */
  #claimExpiry(now: number): number {
    return now + this.#config.visibilityTimeoutS + 1;
  }

  #read<T>(fn: (client: PgClient) => Promise<T>): Promise<T> {
    return this.#session.read("reading the queue", fn);
  }

  #transaction<T>(action: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
    return this.#session.transaction(action, fn);
  }
}

/** What settleBatch writes at the end of a batch. */
interface BatchSettle {
  acks: number[];
  handledEvents: number[];
  durations: number[];
}

type LoadedJobRow = EventRow & {
  job_id: number;
  held: boolean;
  d_id: number | null;
  d_endpoint: string;
  d_received_at: number;
  d_provider_event_id: string | null;
  d_provider_delivery_id: string | null;
  d_event_type: string | null;
  d_method: string;
  d_headers_json: string;
  d_body_blob: Buffer;
  d_query_json: string;
  d_dedupe_key: string | null;
};

/** The handler's view: the event, or for a delivery replay the event with that delivery's payload. */
function replayView(row: EventRow, loaded: LoadedJobRow): Event {
  if (loaded.d_id === null) return toEvent(row);
  return toEvent(
    {
      ...row,
      endpoint: loaded.d_endpoint,
      received_at: loaded.d_received_at,
      provider_event_id: loaded.d_provider_event_id,
      provider_delivery_id: loaded.d_provider_delivery_id,
      event_type: loaded.d_event_type,
      method: loaded.d_method,
      headers_json: loaded.d_headers_json,
      body_blob: loaded.d_body_blob,
      query_json: loaded.d_query_json,
      dedupe_key: loaded.d_dedupe_key,
    },
    loaded.d_id,
  );
}

/**
 * The tx of a transactional handler or a finalizer: the transaction's client, behind a SAVEPOINT
 * taken at its first query, so one that writes nothing costs no round trip. node-postgres sends a client's queries in call order, so
 * the SAVEPOINT needs no await before the handler's query.
 */
class LazySavepoint {
  readonly tx: PgHandlerTx;
  readonly #client: PgClient;
  #taken = false;

  constructor(client: PgClient) {
    this.#client = client;
    this.tx = {
      query: async (text, params) => {
        if (!this.#taken) {
          this.#taken = true;
          // Its failure (an aborted transaction) fails the handler's own query too.
          client.query("SAVEPOINT knocker_job").catch(() => {});
        }
        const result = await client.query(text, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.rowCount };
      },
    };
  }

  async release(): Promise<void> {
    if (this.#taken) await this.#client.query("RELEASE SAVEPOINT knocker_job");
  }

  async rollback(): Promise<void> {
    if (this.#taken) await this.#client.query("ROLLBACK TO SAVEPOINT knocker_job");
  }
}
