// W3C Trace Context as Knocker reads it from a request and stores it with an event
// (src/telemetry/trace-context.ts): what is a traceparent, what is not, and the round trip.
import assert from "node:assert/strict";
import test from "node:test";
import { formatTraceParent, parseTraceParent } from "../src/telemetry/trace-context.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

test("a version 00 traceparent is read, and formats back to the same text", () => {
  for (const flags of ["00", "01", "ff"]) {
    const text = `00-${TRACE}-${SPAN}-${flags}`;
    const parsed = parseTraceParent(text);
    assert.deepEqual(parsed, { traceId: TRACE, spanId: SPAN, traceFlags: Number.parseInt(flags, 16) });
    assert.equal(formatTraceParent(parsed!), text);
  }
});

test("a later version may append fields and is read as version 00's ids; padding is trimmed", () => {
  assert.deepEqual(parseTraceParent(`cc-${TRACE}-${SPAN}-01-what-comes-later`), { traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  assert.deepEqual(parseTraceParent(` 00-${TRACE}-${SPAN}-01\t`), { traceId: TRACE, spanId: SPAN, traceFlags: 1 });
});

test("what is not a traceparent reads as none", () => {
  const bad = [
    undefined, null, 42, ["00-" + TRACE + "-" + SPAN + "-01"], "", "garbage",
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `00-${"0".repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero span id
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // upper-case hex
    `00-${TRACE.slice(1)}g-${SPAN}-01`,
    `00_${TRACE}_${SPAN}_01`,
    `00-${TRACE}-${SPAN}-1`,
    `cc-${TRACE}-${SPAN}-01-${"x".repeat(500)}`, // over 512 characters
  ];
  for (const text of bad) assert.equal(parseTraceParent(text), null, JSON.stringify(text));
});

test("a span context that is not valid formats to none", () => {
  assert.equal(formatTraceParent({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 }), null);
  assert.equal(formatTraceParent({ traceId: TRACE, spanId: "0".repeat(16), traceFlags: 1 }), null);
  assert.equal(formatTraceParent({ traceId: "abc", spanId: SPAN, traceFlags: 1 }), null);
  assert.equal(formatTraceParent({ traceId: TRACE, spanId: SPAN, traceFlags: 0x101 }), `00-${TRACE}-${SPAN}-01`);
});
