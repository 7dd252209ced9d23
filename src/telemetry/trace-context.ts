// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` text Knocker
// stores with an event, so a worker in any process, however much later, can link its run to the
// receipt's span. Parsed here rather than through the global propagator: what is stored is
// Knocker's own record, and must read back the same whatever propagator the app configures.
import { HeadersClass } from "../ingest/normalize.js";

export interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const VERSION_00 = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);
const FLAGS = Array.from({ length: 256 }, (_, flags) => flags.toString(16).padStart(2, "0"));

/**
 * `00-<trace id>-<span id>-<flags>` of a span context a tracer made; null for the invalid one (a
 * no-op tracer's without a parent). The ids are the tracer's, hex already: only their length is checked.
 */
export function formatTraceParent({ traceId, spanId, traceFlags }: TraceParent): string | null {
  if (traceId.length !== 32 || spanId.length !== 16 || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return `00-${traceId}-${spanId}-${FLAGS[traceFlags & 0xff]}`;
}

/**
 * A `traceparent` header value, or null when it is not one. A later version may append fields;
 * version 00 may not, and version ff is forbidden.
 */
export function parseTraceParent(text: unknown): TraceParent | null {
  if (typeof text !== "string" || text.length < 55 || text.length > 512) return null;
  // Version 00, the one every tracer sends today: a test and three slices, no match array.
  if (text.length === 55 && VERSION_00.test(text)) {
    const traceId = text.slice(3, 35);
    const spanId = text.slice(36, 52);
    if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
    return { traceId, spanId, traceFlags: Number.parseInt(text.slice(53, 55), 16) };
  }
  const match = TRACEPARENT.exec(text.length === 55 ? text : text.trim());
  if (match === null) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}

/** The `traceparent` and `tracestate` of a receipt's headers as the caller gave them (any case, a Headers object), without normalising them all. */
export function traceHeaders(headers: unknown): { traceparent: string | undefined; tracestate: string | undefined } {
  const none = { traceparent: undefined, tracestate: undefined };
  if (headers === null || typeof headers !== "object") return none;
  if (HeadersClass !== undefined && headers instanceof HeadersClass) {
    return { traceparent: headers.get("traceparent") ?? undefined, tracestate: headers.get("tracestate") ?? undefined };
  }
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (const name of Object.keys(headers)) {
    if (name.length !== 11 && name.length !== 10) continue;
    const lower = name.toLowerCase();
    const value = (headers as Record<string, unknown>)[name];
    const text = typeof value === "string" ? value : Array.isArray(value) && typeof value[0] === "string" ? (value[0] as string) : undefined;
    if (lower === "traceparent") traceparent = text;
    else if (lower === "tracestate") tracestate = text;
  }
  return traceparent === undefined && tracestate === undefined ? none : { traceparent, tracestate };
}
