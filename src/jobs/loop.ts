// The job loop behind runWorker() and runRetention(), and what goes with it: an abortable sleep,
// an error reporter that a throwing listener cannot stop, the checks of the options every loop
// takes, and the wait until a whole-second timestamp.
import type { WorkerErrorContext } from "../interfaces.js";

/**
 * One kind of job loop. Each turn claims what is due and runs it ("worked": the loop looks again
 * at once), or finds nothing and says how to wait for more (a function whose promise resolves
 * when it is worth looking again, and at once when the loop is stopped).
 */
export interface JobLoop {
  /** Checked before every turn. */
  keepGoing(): boolean;
  turn(): Promise<"worked" | (() => Promise<void>)>;
  /** After a turn threw: hand back what it had claimed. */
  recover?(): Promise<void>;
  /** Between a turn that worked and the next. */
  between?(): Promise<void>;
}

/**
 * Take turns until `keepGoing()` says stop. A turn that throws (a lock timeout, a full disk, a
 * closed connection) is reported, its claims handed back, and the loop pauses `errorPauseMs`
 * (cut short by `stop`) before the next turn.
 */
export async function runJobLoop(loop: JobLoop, options: { stop: AbortSignal; report: (error: unknown) => void; errorPauseMs: number }): Promise<void> {
  while (loop.keepGoing()) {
    let next: Awaited<ReturnType<JobLoop["turn"]>>;
    try {
      next = await loop.turn();
    } catch (error) {
      await loop.recover?.().catch(() => {});
      options.report(error);
      await sleep(options.errorPauseMs, options.stop);
      continue;
    }
    await (next === "worked" ? loop.between?.() : next());
  }
}

/**
 * Milliseconds from `now` until `at`, both whole unix seconds, less the part of the current second
 * already gone (at least 1: a time already past is looked at again almost at once).
 */
export function msUntil(at: number, now: number): number {
  return Math.max(1, (at - now) * 1000 - (Date.now() % 1000));
}

/** Resolve after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

/** Call the app's `onError`; a failing error reporter must not stop the loop. */
export function reporter<C = WorkerErrorContext>(onError: ((error: unknown, context: C) => void) | undefined): (error: unknown, context: C) => void {
  return (error, context) => {
    try {
      onError?.(error, context);
    } catch {
      // ignored on purpose
    }
  };
}

/** `signal` and `onError`, the options every loop takes. */
export function checkLoopOptions(options: { signal?: unknown; onError?: unknown }): void {
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  if (options.onError !== undefined && typeof options.onError !== "function") throw new TypeError("onError must be a function");
}
