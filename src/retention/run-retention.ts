import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { KnockerError } from "../errors.js";
import { checkKnownKeys } from "../operator/validate.js";
import type { PruneEventsResult, RetentionPolicyOptions, RunRetentionOptions } from "../interfaces.js";
import type { Observer } from "../observer.js";
import type { ClaimedJob, RetentionPhase, RetentionSchedule, RetentionStore } from "../store/store.js";
import { RetentionPolicy } from "./policy.js";
import { checkLoopOptions, msUntil, reporter, runJobLoop, sleep } from "../jobs/loop.js";

/** Longest sleep between looks at the schedule (also how fast a pinned test clock is noticed). */
const MAX_IDLE_MS = 1000;
/** Sleep when something is due but not ours to act on yet (another process holds the lock). */
const CONTENDED_POLL_MS = 50;
/** Pause after a failed tick, claim or run before trying again. */
const ERROR_PAUSE_MS = 250;
/** The scheduler lease: three intervals, within these bounds (seconds). */
const LEASE_BOUNDS_S = [3, 60] as const;

export const retentionTaskName = (queueName: string) => `knocker-retention:${queueName}`;
export const retentionQueueName = (queueName: string) => `${queueName}.retention`;

type Phase = RetentionPhase;

interface RunTotals extends PruneEventsResult {
  orphanDeliveriesPruned: number;
  batches: number;
}

/**
 * The loop behind `runRetention()`. Every process that runs it registers the same task, ticks the
 * scheduler when it holds the lock, and claims retention jobs from `<queueName>.retention` — so
 * any process can run a fire, and the queue's claim makes sure only one does. A run prunes in
 * `limit`-sized transactions, each with its audit row and a heartbeat on the job's claim, and
 * yields to the event loop between them; the last one acks the job.
 */
export class RetentionRunner {
  readonly #store: RetentionStore;
  readonly #queueName: string;
  readonly #maxAttempts: number;
  readonly #now: () => number;
  readonly #observer: Observer;
  readonly #stopAll = new AbortController();
  #active: { scheduler: RetentionSchedule; job: ClaimedJob | null } | null = null;

  /** `store`: the engine's retention side, on the queue `retentionQueueName(queueName)`. */
  constructor(store: RetentionStore, queueName: string, maxAttempts: number, now: () => number, observer: Observer) {
    this.#store = store;
    this.#queueName = queueName;
    this.#maxAttempts = maxAttempts;
    this.#now = now;
    this.#observer = observer;
  }

  /**
   * Stop every run (close()): the job in hand is acked — the rest of its backlog is the next
   * fire's — and the scheduler lock released, so nothing waits for a lease or claim to expire.
   */
  stopAll(): void {
    this.#stopAll.abort();
    const active = this.#active;
    if (!active || !this.#store.isOpen) return;
    // Synchronous on SQLite: done before close() closes the connection.
    if (active.job) void Promise.resolve(this.#store.finishEarly(active.job)).catch(() => {});
    try {
      void Promise.resolve(active.scheduler.release()).catch(() => {});
    } catch {
      // the lease simply runs out
    }
  }

  async run(policyInput: RetentionPolicy | RetentionPolicyOptions, options: RunRetentionOptions = {}): Promise<void> {
    const policy = policyInput instanceof RetentionPolicy ? policyInput : new RetentionPolicy(policyInput);
    const { signal, onError } = checkOptions(options);
    if (this.#active) {
      throw new KnockerError("ERR_INVALID_STATE", "runRetention() is already running on this Knocker; abort its signal before starting another");
    }
    const owner = `${hostname()}:${process.pid}:retention:${randomBytes(4).toString("hex")}`;
    const leaseS = Math.min(LEASE_BOUNDS_S[1], Math.max(LEASE_BOUNDS_S[0], 3 * policy.intervalS));
    const scheduler = this.#store.schedule(
      {
        name: retentionTaskName(this.#queueName),
        queue: retentionQueueName(this.#queueName),
        intervalS: policy.intervalS,
        payload: { task: retentionTaskName(this.#queueName), queue_name: this.#queueName, policy: policy.toStored() },
        maxAttempts: this.#maxAttempts,
      },
      owner,
      leaseS,
    );
    // Taken before the first await, so a second runRetention() on this Knocker is refused at once.
    const active = (this.#active = { scheduler, job: null as ClaimedJob | null });
    const stop = signal ? AbortSignal.any([signal, this.#stopAll.signal]) : this.#stopAll.signal;
    const tell = reporter<undefined>(onError === undefined ? undefined : (error) => onError(error));
    const report = (error: unknown) => tell(error, undefined);

    try {
      await scheduler.register(this.#now());
      await runJobLoop(
        {
          keepGoing: () => !stop.aborted && this.#store.isOpen,
          turn: async () => {
            const now = this.#now();
            const enabled = await this.#tickIfWorthIt(scheduler, owner, now);
            // Paused (`enabled = 0`): no fires and no runs, but keep ticking (the lease) and looking,
            // so setting `enabled = 1` again resumes without a restart.
            const job = enabled ? await this.#claim(owner, now) : null;
            if (job === null) {
              const ms = await this.#msUntilNextLook(scheduler, owner, now);
              return () => sleep(ms, stop);
            }
            active.job = job;
            try {
              await this.#runJob(job, scheduler, stop, report);
            } finally {
              active.job = null;
            }
            return "worked";
          },
        },
        { stop, report, errorPauseMs: ERROR_PAUSE_MS },
      );
    } finally {
      if (this.#active === active) this.#active = null;
      if (this.#store.isOpen) {
        try {
          await scheduler.release();
        } catch {
          // the lease simply runs out
        }
      }
    }
  }

  /**
   * Tick (a write) only when it can matter: a fire is due, the lock is free, or our lease needs
   * renewing. Returns whether the task is enabled (an operator may pause it with `enabled = 0`).
   */
  async #tickIfWorthIt(scheduler: RetentionSchedule, owner: string, now: number): Promise<boolean> {
    let view = await scheduler.view();
    if (view.nextFireAt === null) {
      await scheduler.register(now); // the task row was removed (by an operator): put it back
      view = await scheduler.view();
    }
    const ours = view.lockOwner === owner && view.lockExpiresAt !== null && view.lockExpiresAt > now;
    const free = view.lockOwner === null || view.lockExpiresAt === null || view.lockExpiresAt <= now;
    const due = view.enabled && view.nextFireAt !== null && view.nextFireAt <= now;
    const renew = ours && view.lockExpiresAt! - now <= renewMargin(scheduler.leaseS);
    if (!(free || renew || (ours && due))) return view.enabled;
    const tick = await scheduler.tick(now);
    if (tick.fired) {
      this.#observer.emit("retention:fire", { queueName: this.#queueName, ...tick.fired });
    }
    return view.enabled;
  }

  /** Claim one due retention job (dead-lettering claims that expired on their last attempt). */
  async #claim(owner: string, now: number): Promise<ClaimedJob | null> {
    const due = await this.#store.nextJobDueAt();
    if (due === null || due > now) return null;
    return this.#store.claimJob(owner, now);
  }

  /**
   * When something could next be ours to do: the lock holder wakes for the next fire and to renew
   * its lease; the others for the next fire (to compete for its job) and for the lease's end (to
   * take over). A fire already due but left to the holder is not a reason to spin. While the task
   * is paused, neither fires nor queued runs count: only the lease, and the idle cap (how fast a
   * re-enabled task is noticed).
   */
  async #msUntilNextLook(scheduler: RetentionSchedule, owner: string, now: number): Promise<number> {
    const view = await scheduler.view();
    const ours = view.lockOwner === owner;
    const times: number[] = [];
    if (view.enabled && view.nextFireAt !== null && (ours || view.nextFireAt > now)) times.push(view.nextFireAt);
    if (view.lockExpiresAt !== null) times.push(ours ? view.lockExpiresAt - renewMargin(scheduler.leaseS) : view.lockExpiresAt);
    const jobDue = view.enabled ? await this.#store.nextJobDueAt() : null;
    if (jobDue !== null) times.push(jobDue);
    const next = Math.min(...times);
    if (!Number.isFinite(next)) return MAX_IDLE_MS;
    if (next <= now) return CONTENDED_POLL_MS;
    return Math.min(MAX_IDLE_MS, msUntil(next, now));
  }

  async #runJob(job: ClaimedJob, scheduler: RetentionSchedule, stop: AbortSignal, report: (error: unknown) => void): Promise<void> {
    const started = performance.now();
    let fireAt: number;
    let phases: Phase[];
    try {
      ({ fireAt, phases } = this.#plan(job));
    } catch (error) {
      await this.#store.settleFailed(job, error, true);
      report(error);
      return;
    }
    const totals: RunTotals = { eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0, orphanDeliveriesPruned: 0, batches: 0 };
    const finished = (complete: boolean) =>
      this.#observer.emit("retention:run", {
        queueName: this.#queueName, jobId: job.id, fireAt, ...totals, complete, durationMs: performance.now() - started,
      });

    for (const [index, phase] of phases.entries()) {
      const lastPhase = index === phases.length - 1;
      for (let done = false; !done; ) {
        // Paused mid-run: end it like a stop (the rest of the backlog is the next fire's).
        if (stop.aborted || !this.#store.isOpen || (await scheduler.paused())) {
          if (this.#store.isOpen) await this.#store.finishEarly(job);
          finished(false);
          return;
        }
        const batch = totals.batches + 1;
        try {
          const source = { source: "retention", fireAt, jobId: job.id, batch } as const;
          const counted = await this.#store.pruneBatch(job, phase, source, lastPhase);
          if (counted.lost) {
            report(new KnockerError(
              "ERR_CLAIM_LOST",
              `retention job ${job.id} (fire ${fireAt}): its claim expired or was taken by another process; this batch was rolled back`,
            ));
            return;
          }
          done = counted.done;
          totals.batches = batch;
          if (counted.orphans) {
            totals.orphanDeliveriesPruned += counted.orphans.deliveriesPruned;
          } else if (counted.events) {
            totals.eventsPruned += counted.events.eventsPruned;
            totals.deliveriesPruned += counted.events.deliveriesPruned;
            totals.attemptsPruned += counted.events.attemptsPruned;
            totals.liveJobsPruned += counted.events.liveJobsPruned;
          }
        } catch (error) {
          await this.#store.settleFailed(job, error, false);
          report(error);
          return;
        }
        // Let receipts and handlers in before the next batch takes the write lock again. A timer,
        // not setImmediate: it runs after the check phase, so a group commit queued meanwhile
        // (with setImmediate) goes first (bench/retention.bench.ts: p99 of receive() ~25% lower).
        await delay(0);
      }
    }
    finished(true);
  }

  /** Read the job: which fire it is and what to prune, with cutoffs fixed at the start of the run. */
  #plan(job: ClaimedJob): { fireAt: number; phases: Phase[] } {
    const payload = JSON.parse(job.payload) as { fire_at?: unknown; policy?: unknown } | null;
    const fireAt = payload?.fire_at;
    if (typeof fireAt !== "number" || !Number.isSafeInteger(fireAt)) {
      throw new KnockerError("ERR_INVALID_STATE", `retention job ${job.id} has no integer fire_at in its payload`);
    }
    const policy = RetentionPolicy.fromStored(payload?.policy);
    const now = this.#now();
    const phases: Phase[] = [];
    if (policy.eventOlderThanS !== null) {
      phases.push({
        kind: "events",
        request: { statuses: policy.eventStatuses, olderThan: Math.max(0, now - policy.eventOlderThanS), limit: policy.eventLimit },
      });
    }
    if (policy.orphanDeliveriesOlderThanS !== null) {
      phases.push({
        kind: "orphans",
        request: { olderThan: Math.max(0, now - policy.orphanDeliveriesOlderThanS), limit: policy.orphanDeliveriesLimit },
      });
    }
    return { fireAt, phases };
  }

}

/** Renew the lease once a third of it has passed. */
function renewMargin(leaseS: number): number {
  return Math.ceil((leaseS * 2) / 3);
}

function checkOptions(options: RunRetentionOptions) {
  if (options === null || typeof options !== "object") throw new TypeError("runRetention() takes (policy, { signal, onError })");
  checkKnownKeys(options, "runRetention", ["signal", "onError"]);
  const { signal, onError } = options;
  checkLoopOptions(options);
  return { signal, onError };
}
