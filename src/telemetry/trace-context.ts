// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` text Knocker
// stores with an event, so a worker in any process, however much later, can link its run to the
// receipt's span. Parsed here rather than through the global propagator: what is stored is
// Knocker's own record, and must read back the same whatever propagator the app configures.

export interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** `00-<trace id>-<span id>-<flags>`; null for an invalid span context (a no-op tracer's). */
export function formatTraceParent({ traceId, spanId, traceFlags }: TraceParent): string | null {
  if (!/^[0-9a-f]{32}$/.test(traceId) || traceId === ZERO_TRACE || !/^[0-9a-f]{16}$/.test(spanId) || spanId === ZERO_SPAN) return null;
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * A `traceparent` header value, or null when it is not one. A later version may append fields;
 * version 00 may not, and version ff is forbidden.
 */
export function parseTraceParent(text: unknown): TraceParent | null {
  if (typeof text !== "string" || text.length > 512) return null;
  const match = TRACEPARENT.exec(text.trim());
  if (match === null) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}
