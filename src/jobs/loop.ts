// What the two job loops (the worker's and retention's) share: an abortable sleep, an error
// reporter that a throwing listener cannot stop, and the checks of their common options.
import type { WorkerErrorContext } from "../interfaces.js";

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
