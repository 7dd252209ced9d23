import { createHash } from "node:crypto";
import { KnockerError } from "../errors.js";
import type { Event, Finalizer, HandlerContext } from "../interfaces.js";
import type { JobStore } from "../store/store.js";
import type { JobOutcome, StartedJob } from "./outcomes.js";

/** Heartbeats per visibility window: a claim is renewed well before it could expire. */
const HEARTBEATS_PER_WINDOW = 3;

/** Why a run's signal was aborted by Knocker (the handler may abort it for its own reasons too). */
type Abort = "timeout" | "lost" | "shutdown";

/**
 * One async handler run (`{ transaction: false }`), after its claim committed: the handler runs
 * outside every transaction while a heartbeat renews the claim; its outcome (and finalizer) is
 * recorded in a transaction of its own. `shutdown()` aborts it and hands the claim back with the
 * attempt refunded; `abandon()` (close()) does the same at once, synchronously.
 */
export class AsyncRun {
  readonly eventId: number;
  /** Settles with the recorded outcome; null when the claim was handed back. Never rejects. */
  readonly done: Promise<JobOutcome | null>;
  readonly #jobs: JobStore;
  readonly #started: StartedJob;
  readonly #controller = new AbortController();
  #abort: Abort | null = null;
  #released = false;

  constructor(jobs: JobStore, started: StartedJob, context: { queueName: string; workerId: string; visibilityTimeoutS: number }, onStorageError: (error: unknown) => void) {
    this.#jobs = jobs;
    this.#started = started;
    this.eventId = started.event.id;
    this.done = this.#run(context).catch((error: unknown) => {
      // Recording the outcome failed (disk full, lock timeout): the claim expires and the event is retried.
      onStorageError(error);
      return null;
    });
  }

  /** Abort the handler (graceful shutdown ran out of time): its claim goes back, attempt refunded. */
  shutdown(): void {
    this.#stop("shutdown", new KnockerError("ERR_SHUTDOWN", "the worker shut down before the handler finished (shutdownTimeoutS); its claim was handed back"));
  }

  /** close(): hand the claim back now, while the connection is still open; the rest of the run changes nothing. */
  abandon(): void {
    this.shutdown();
    this.#release();
  }

  async #run({ queueName, workerId, visibilityTimeoutS }: { queueName: string; workerId: string; visibilityTimeoutS: number }): Promise<JobOutcome | null> {
    const { job, event, handler } = this.#started;
    const timeoutS = handler.timeoutS ?? visibilityTimeoutS;
    const timer = setTimeout(
      () => this.#stop("timeout", new KnockerError("ERR_HANDLER_TIMEOUT", `async handler timed out after timeoutS (${timeoutS} s) on attempt ${job.attempts}`)),
      timeoutS * 1000,
    );
    const heartbeat = setInterval(async () => {
      try {
        if (await this.#jobs.extendClaim(job)) return;
      } catch {
        return; // a failed renewal (lock timeout) is tried again at the next beat; expiry decides
      }
      this.#stop("lost", new KnockerError("ERR_CLAIM_LOST", `claim on job ${job.id} (event ${event.id}) expired or was taken by another worker while its async handler ran`));
    }, (visibilityTimeoutS * 1000) / HEARTBEATS_PER_WINDOW);
    const context: HandlerContext = { signal: this.#controller.signal, attempt: job.attempts, idempotencyKey: idempotencyKey(queueName, event), workerId };
    const started = performance.now();
    let result: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      // A handler that ignores its signal is not waited for once Knocker aborted it.
      const value = await Promise.race([(async () => handler.fn(event, context))(), aborted(this.#controller.signal)]);
      result = { ok: true, value };
    } catch (error) {
      result = { ok: false, error };
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
    }
    const durationMs = Math.round(performance.now() - started);
    if (this.#abort === "shutdown") {
      this.#release();
      return null;
    }
    if (this.#abort === "lost") return { kind: "lost", eventId: event.id, error: this.#controller.signal.reason as KnockerError };
    if (this.#abort === "timeout") return this.#jobs.failAsync(this.#started, this.#controller.signal.reason, durationMs);
    if (!result.ok) return this.#jobs.failAsync(this.#started, result.error, durationMs);
    const finalizer = result.value;
    if (finalizer !== undefined && typeof finalizer !== "function") {
      const error = new KnockerError("ERR_INVALID_HANDLER_RESULT", `async handler resolved to ${typeof finalizer === "object" ? (finalizer === null ? "null" : "an object") : typeof finalizer}: expected nothing, or a finalizer function (tx) => void`);
      return this.#jobs.failAsync(this.#started, error, durationMs);
    }
    return this.#jobs.finishAsync(this.#started, finalizer as Finalizer | undefined, durationMs);
  }

  #stop(why: Abort, reason: KnockerError): void {
    if (this.#abort !== null) return;
    this.#abort = why;
    this.#controller.abort(reason);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    void Promise.resolve(this.#jobs.release([this.#started.job])).catch(() => {}); // best effort: expiry takes over
  }
}

/** Rejects with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * Stable for one event across its retries, distinct between events: the queue, the endpoint, the
 * event's id, when it was received and its identity (a database created again reuses event ids,
 * not the providers' event ids).
 */
function idempotencyKey(queueName: string, event: Event): string {
  const identity = event.dedupeKey ?? event.providerEventId ?? "";
  const digest = createHash("sha256").update(`${queueName}\0${event.endpoint}\0${event.id}\0${event.receivedAt}\0${identity}`).digest("base64url");
  return `knocker-${event.id}-${digest.slice(0, 22)}`;
}
