import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { KnockerError } from "../errors.js";
import { checkKnownKeys } from "../operator/validate.js";
import type { RunWorkerOptions, WorkerErrorContext, WorkerState } from "../interfaces.js";
import type { Observer } from "../observer.js";
import type { ClaimedJob } from "../queue/queue.js";
import { errorMessage, type Dispatcher, type JobOutcome } from "./dispatch.js";
import type { Wake } from "./wake.js";

/** Pause after a failed claim or commit (lock timeout, disk full) before trying again. */
const ERROR_PAUSE_MS = 250;

/** The loop behind `runWorker()`: claim a batch, run it, repeat; sleep on the Wake when idle. */
export class WorkerPool {
  readonly #dispatcher: Dispatcher;
  readonly #wake: Wake;
  readonly #batchSize: number;
  readonly #states = new Map<string, WorkerState>();
  readonly #stopAll = new AbortController();
  /** Set by close(): unlike a stop signal, claimed jobs are not drained (the connection is going away). */
  #closed = false;
  /** Jobs each running loop has claimed but not yet run, so close() can hand them back. */
  readonly #held = new Map<string, readonly ClaimedJob[]>();
  readonly #observer: Observer;

  constructor(dispatcher: Dispatcher, wake: Wake, batchSize: number, observer: Observer) {
    this.#observer = observer;
    this.#dispatcher = dispatcher;
    this.#wake = wake;
    this.#batchSize = batchSize;
  }

  states(): WorkerState[] {
    return [...this.#states.values()].map((state) => ({ ...state }));
  }

  /** Stop every running loop at once (used by close()); claims still held expire and are retried. */
  stopAll(): void {
    this.#closed = true;
    this.#stopAll.abort();
    for (const jobs of this.#held.values()) this.#dispatcher.release(jobs);
    this.#held.clear();
  }

  async run(options: RunWorkerOptions = {}): Promise<void> {
    const { signal, onError } = checkOptions(options);
    const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    const running = this.#states.get(workerId);
    if (running?.running) throw new KnockerError("ERR_INVALID_ARGUMENT", `worker "${workerId}" is already running`);
    const state: WorkerState = { workerId, running: true, currentEventId: null, lastError: null };
    this.#states.set(workerId, state);
    const stop = signal ? AbortSignal.any([signal, this.#stopAll.signal]) : this.#stopAll.signal;
    const report = (error: unknown, eventId: number | null) => {
      state.lastError = errorMessage(error);
      try {
        onError?.(error, { workerId, eventId });
      } catch {
        // a failing error reporter must not stop the worker
      }
    };

    try {
      let jobs: ClaimedJob[] = [];
      // close() hands claimed jobs back (stopAll); a connection closed under us leaves them to expire.
      while ((!stop.aborted || jobs.length > 0) && !this.#closed && this.#dispatcher.isOpen) {
        let outcomes: JobOutcome[];
        try {
          if (jobs.length === 0) {
            // Read the data version before looking, so a commit from another process that lands
            // between the look and the wait still wakes us at the next poll.
            const seen = this.#wake.version();
            if (!this.#dispatcher.hasDueWork()) {
              await this.#wake.wait(this.#dispatcher.msUntilDue(), stop, seen);
              continue;
            }
            jobs = this.#dispatcher.claim(workerId, this.#batchSize);
            this.#held.set(workerId, jobs);
            if (jobs.length === 0) continue;
          }
          // Claimed jobs are drained even when `stop` fires meanwhile; only then does the loop end.
          const started = performance.now();
          const claimNext = stop.aborted ? undefined : { workerId, limit: this.#batchSize };
          const batch = this.#dispatcher.runBatch(jobs, (eventId) => (state.currentEventId = eventId), claimNext);
          this.#held.set(workerId, batch.next); // before any listener runs: it may call close()
          const count = (kind: JobOutcome["kind"]) => batch.outcomes.filter((outcome) => outcome.kind === kind).length;
          this.#observer.emit("worker:batch", {
            workerId, jobs: jobs.length, handled: count("handled"), failed: count("failed"), dead: count("dead"),
            durationMs: performance.now() - started,
          });
          outcomes = batch.outcomes;
          jobs = batch.next;
        } catch (error) {
          // The batch rolled back, handlers and all: its claims go back to the queue unused.
          this.#dispatcher.release(jobs);
          jobs = [];
          this.#held.delete(workerId);
          report(error, null);
          await sleep(ERROR_PAUSE_MS, stop);
          continue;
        }
        for (const outcome of outcomes) {
          if (outcome.kind === "lost" || outcome.kind === "failed" || outcome.kind === "dead") report(outcome.error, outcome.eventId);
        }
        await yieldToEventLoop(); // let ingress and timers run between batches
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
  checkKnownKeys(options, "runWorker", ["signal", "onError", "workerId"]);
  const { signal, onError, workerId } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  if (onError !== undefined && typeof onError !== "function") throw new TypeError("onError must be a function");
  if (workerId !== undefined && (typeof workerId !== "string" || workerId.length === 0)) {
    throw new TypeError("workerId must be a non-empty string");
  }
  return { signal, onError: onError as ((error: unknown, context: WorkerErrorContext) => void) | undefined };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
