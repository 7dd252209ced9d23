import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { KnockerError } from "../errors.js";
import { checkKnownKeys } from "../operator/validate.js";
import type { RunWorkerOptions, WorkerErrorContext, WorkerState } from "../interfaces.js";
import type { Observer } from "../observer.js";
import type { ChangeFeed, ClaimedJob, JobStore } from "../store/store.js";
import { AsyncRun } from "./async-run.js";
import { errorMessage, type JobOutcome } from "./outcomes.js";
import { checkLoopOptions, reporter, runJobLoop, type JobLoop } from "../jobs/loop.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { parseJobPayload } from "./dispatch-rules.js";

/** Pause after a failed claim or commit (lock timeout, disk full) before trying again. */
const ERROR_PAUSE_MS = 250;
const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT_S = 30;

/** What the worker needs besides the dispatcher. */
export interface WorkerConfig {
  batchSize: number;
  queueName: string;
  visibilityTimeoutS: number;
  /** Whether any async handler is registered (read at each claim: handlers may be added later). */
  hasAsyncHandlers(): boolean;
}

/** The loop behind `runWorker()`: claim a batch, run it, repeat; sleep on the Wake when idle. */
export class WorkerPool {
  readonly #jobs: JobStore;
  readonly #wake: ChangeFeed;
  readonly #config: WorkerConfig;
  /** Async handler runs in flight, of every loop, so close() can hand their claims back. */
  readonly #runs = new Set<AsyncRun>();
  readonly #states = new Map<string, WorkerState>();
  readonly #stopAll = new AbortController();
  /** Set by close(): unlike a stop signal, claimed jobs are not drained (the connection is going away). */
  #closed = false;
  /** Jobs each running loop has claimed but not yet run, so close() can hand them back. */
  readonly #held = new Map<string, readonly ClaimedJob[]>();
  readonly #observer: Observer;
  readonly #telemetry: Telemetry | null;

  constructor(jobs: JobStore, wake: ChangeFeed, config: WorkerConfig, observer: Observer, telemetry: Telemetry | null = null) {
    this.#telemetry = telemetry;
    this.#observer = observer;
    this.#jobs = jobs;
    this.#wake = wake;
    this.#config = config;
  }

  states(): WorkerState[] {
    return [...this.#states.values()].map((state) => ({ ...state }));
  }

  /** Stop every running loop at once (used by close()); claims still held expire and are retried. */
  stopAll(): void {
    this.#closed = true;
    this.#stopAll.abort();
    for (const jobs of this.#held.values()) void Promise.resolve(this.#jobs.release(jobs)).catch(() => {});
    this.#held.clear();
    for (const run of this.#runs) run.abandon();
    this.#runs.clear();
  }

  async run(options: RunWorkerOptions = {}): Promise<void> {
    const { signal, onError, concurrency, shutdownTimeoutS } = checkOptions(options);
    const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    const running = this.#states.get(workerId);
    if (running?.running) throw new KnockerError("ERR_INVALID_ARGUMENT", `worker "${workerId}" is already running`);
    const state: WorkerState = { workerId, running: true, currentEventId: null, lastError: null };
    this.#states.set(workerId, state);
    const stop = signal ? AbortSignal.any([signal, this.#stopAll.signal]) : this.#stopAll.signal;
    const tell = reporter(onError);
    const report = (error: unknown, eventId: number | null) => {
      state.lastError = errorMessage(error);
      tell(error, { workerId, eventId });
    };
    const reportOutcome = (outcome: JobOutcome | null) => {
      if (outcome?.kind === "lost" || outcome?.kind === "failed" || outcome?.kind === "dead") report(outcome.error, outcome.eventId);
    };
    /** This loop's async handler runs in flight; at `concurrency` it claims nothing new. */
    const inFlight = new Set<AsyncRun>();
    const batchSize = this.#config.batchSize;
    const asyncRoom = () => (this.#config.hasAsyncHandlers() ? concurrency - inFlight.size : Number.POSITIVE_INFINITY);
    const start = (outcomes: readonly JobOutcome[]) => {
      for (const outcome of outcomes) {
        if (outcome.kind !== "started") continue;
        const run = new AsyncRun(this.#jobs, outcome.started, { queueName: this.#config.queueName, workerId, visibilityTimeoutS: this.#config.visibilityTimeoutS }, (error) => report(error, outcome.eventId));
        inFlight.add(run);
        this.#runs.add(run);
        void run.done.then((result) => {
          inFlight.delete(run);
          this.#runs.delete(run);
          // null: the claim was handed back (an async run never reports "started")
          this.#telemetry?.settle(run.eventId, result === null || result.kind === "started" ? "released" : result.kind, errorOf(result));
          reportOutcome(result);
          if (result !== null) {
            this.#observer.emit("worker:batch", {
              workerId, jobs: 1, handled: result.kind === "handled" ? 1 : 0, failed: result.kind === "failed" ? 1 : 0, dead: result.kind === "dead" ? 1 : 0,
              durationMs: 0,
            });
          }
          freed?.();
        });
      }
    };
    /** Resolves the wait of a loop at its concurrency cap when one of its runs ends. */
    let freed: (() => void) | undefined;
    // The abort listener goes with the wait: a loop at its cap waits once per finished run, and
    // listeners left behind would pile up on the signal for as long as the worker runs.
    const untilFreed = () => new Promise<void>((resolve) => {
      const done = () => {
        freed = undefined;
        stop.removeEventListener("abort", done);
        resolve();
      };
      freed = done;
      stop.addEventListener("abort", done, { once: true });
    });

    let jobs: ClaimedJob[] = [];
    const loop: JobLoop = {
      // Claimed jobs are drained even when `stop` fires meanwhile; only then does the loop end.
      // close() hands claimed jobs back (stopAll); a connection closed under us leaves them to expire.
      keepGoing: () => (!stop.aborted || jobs.length > 0) && !this.#closed && this.#jobs.isOpen,
      turn: async () => {
        if (jobs.length === 0) {
          const room = Math.min(batchSize, asyncRoom());
          if (room <= 0) return untilFreed;
          // Read the data version before looking, so a commit from another process that lands
          // between the look and the wait still wakes us at the next poll.
          const seen = this.#wake.version();
          if (!(await this.#jobs.hasDueWork())) {
            const ms = await this.#jobs.msUntilDue();
            return () => this.#wake.wait(ms, stop, seen);
          }
          jobs = await this.#jobs.claim(workerId, room);
          this.#held.set(workerId, jobs);
          if (jobs.length === 0) return "worked";
        }
        const started = performance.now();
        const claimNext = stop.aborted ? undefined : { workerId, limit: batchSize, asyncRoom: asyncRoom() };
        const batch = await this.#jobs.runBatch(jobs, (eventId) => (state.currentEventId = eventId), claimNext);
        this.#held.set(workerId, batch.next); // before any listener runs: it may call close()
        start(batch.outcomes);
        const count = (kind: JobOutcome["kind"]) => batch.outcomes.filter((outcome) => outcome.kind === kind).length;
        this.#observer.emit("worker:batch", {
          workerId, jobs: jobs.length, handled: count("handled"), failed: count("failed"), dead: count("dead"),
          durationMs: performance.now() - started,
        });
        jobs = batch.next;
        const telemetry = this.#telemetry;
        if (telemetry !== null) {
          for (const outcome of batch.outcomes) if (outcome.kind !== "started") telemetry.settle(outcome.eventId, outcome.kind, errorOf(outcome));
        }
        for (const outcome of batch.outcomes) reportOutcome(outcome);
        return "worked";
      },
      // The batch rolled back, handlers and all: its claims go back to the queue unused.
      recover: async () => {
        const unused = jobs;
        jobs = [];
        this.#held.delete(workerId);
        for (const job of unused) this.#telemetry?.settle(parseJobPayload(job.payload)?.eventId ?? null, "rolled_back");
        await this.#jobs.release(unused);
      },
      between: () => yieldToEventLoop(), // let ingress and timers run between batches
    };

    try {
      await runJobLoop(loop, { stop, report: (error) => report(error, null), errorPauseMs: ERROR_PAUSE_MS });
      // Stopping: async handlers in flight get up to shutdownTimeoutS to finish, then are aborted
      // and their claims handed back (attempt refunded). close() already abandoned them.
      if (inFlight.size > 0) {
        const all = Promise.all([...inFlight].map((run) => run.done));
        let timer: NodeJS.Timeout | undefined;
        const expired = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), shutdownTimeoutS * 1000)))]);
        clearTimeout(timer);
        if (expired) {
          for (const run of inFlight) run.shutdown();
          await all;
        }
      }
    } finally {
      this.#held.delete(workerId);
      state.running = false;
      state.currentEventId = null;
    }
  }
}

function checkOptions(options: RunWorkerOptions) {
  if (options === null || typeof options !== "object") throw new TypeError("runWorker() takes an options object");
  checkKnownKeys(options, "runWorker", ["signal", "onError", "workerId", "concurrency", "shutdownTimeoutS"]);
  const { signal, onError, workerId, concurrency = DEFAULT_CONCURRENCY, shutdownTimeoutS = DEFAULT_SHUTDOWN_TIMEOUT_S } = options;
  checkLoopOptions(options);
  if (workerId !== undefined && (typeof workerId !== "string" || workerId.length === 0)) {
    throw new TypeError("workerId must be a non-empty string");
  }
  if (typeof concurrency !== "number" || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new KnockerError("ERR_INVALID_OPTION", `runWorker() option "concurrency" must be an integer from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(concurrency) ?? String(concurrency)}`);
  }
  if (typeof shutdownTimeoutS !== "number" || !Number.isFinite(shutdownTimeoutS) || shutdownTimeoutS < 0 || shutdownTimeoutS > 86_400) {
    throw new KnockerError("ERR_INVALID_OPTION", `runWorker() option "shutdownTimeoutS" must be a number of seconds from 0 to 86400, got ${JSON.stringify(shutdownTimeoutS) ?? String(shutdownTimeoutS)}`);
  }
  return { signal, onError: onError as ((error: unknown, context: WorkerErrorContext) => void) | undefined, concurrency, shutdownTimeoutS };
}

function errorOf(outcome: JobOutcome | null): unknown {
  return outcome !== null && "error" in outcome ? outcome.error : undefined;
}
