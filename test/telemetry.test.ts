// Issue 19 (CONTRACT §13): OpenTelemetry traces and metrics, checked with the SDK's in-memory
// exporters. A webhook signed by the stripe package goes over real HTTP with a traceparent; the
// parent records the SERVER and PRODUCER spans and the receipt metrics, a worker in a child
// process (its own SDK) records the CONSUMER spans, linked to the receipt's span through the trace
// context stored with the event. On both engines.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { context, propagation, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import Stripe from "stripe";
import { KnockerError, open, type EngineName, type Knocker } from "../src/index.js";
import { engineMatrix } from "./support/engines.js";
import { serveInbox } from "./support/node-server.js";
import { pointValue, telemetrySdk, type MetricPoint, type SpanRecord } from "./support/otel.js";
import { Child, fixture } from "./support/processes.js";
import { drain, tempDbPath } from "./support.js";

const SECRET = "whsec_telemetry_test";
const stripe = new Stripe("sk_test_knocker");
const QUEUE = "knocker.events";

const stripeBody = (id: string) => JSON.stringify({ id, object: "event", type: "invoice.paid", data: { object: { id: "in_1" } } });

async function post(port: number, path: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  await response.arrayBuffer();
  return response.status;
}

for (const engine of engineMatrix()) {
  describe(engine.name, () => {
    test("a webhook over HTTP with a traceparent: SERVER and PRODUCER spans in that trace, a CONSUMER span per run in another process linked to the receipt's span, metrics that match", async (t) => {
      const { db: target, sql } = await engine.location();
      const sdk = telemetrySdk();
      const webhooks = open<EngineName>(target, { telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } });
      webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
      webhooks.endpoint("orphans", { path: "/orphans" });
      const served = await serveInbox(webhooks as Knocker);
      t.after(() => served.close());

      const traceId = randomBytes(16).toString("hex");
      const callerSpanId = randomBytes(8).toString("hex");
      const body = stripeBody("evt_telemetry_1");
      const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
      const stored = await post(served.port, "/stripe", body, { "stripe-signature": signature, traceparent: `00-${traceId}-${callerSpanId}-01` });
      const duplicate = await post(served.port, "/stripe", body, { "stripe-signature": signature });
      const invalid = await post(served.port, "/stripe", stripeBody("evt_forged"), { "stripe-signature": signature });
      const orphan = await post(served.port, "/orphans", "{}", {});
      assert.deepEqual([stored < 300, duplicate < 300, invalid, orphan < 300], [true, true, 401, true]);

      const spans = sdk.spans();
      const server = spans.find((s) => s.kind === "SERVER" && s.traceId === traceId);
      assert.ok(server, "a SERVER span in the caller's trace");
      assert.equal(server.parentSpanId, callerSpanId, "it continues the incoming traceparent");
      assert.equal(server.name, "POST /stripe");
      assert.deepEqual(pick(server.attributes, ["http.request.method", "http.route", "url.path", "http.response.status_code", "knocker.endpoint"]),
        { "http.request.method": "POST", "http.route": "/stripe", "url.path": "/stripe", "http.response.status_code": stored, "knocker.endpoint": "stripe" });

      const producers = spans.filter((s) => s.kind === "PRODUCER");
      assert.equal(producers.length, 4, "one PRODUCER span per receipt");
      const producer = producers.find((s) => s.parentSpanId === server.spanId)!;
      assert.ok(producer, "the receipt's span is a child of the request's");
      assert.equal(producer.traceId, traceId);
      assert.equal(producer.name, `create ${QUEUE}`);
      const eventId = Number(producer.attributes["messaging.message.id"]);
      assert.ok(eventId > 0);
      assert.deepEqual(pick(producer.attributes, ["messaging.system", "messaging.operation.type", "messaging.destination.name", "knocker.endpoint", "knocker.provider", "knocker.duplicate", "knocker.signature_valid", "http.response.status_code", "knocker.outcome"]), {
        "messaging.system": "knocker", "messaging.operation.type": "create", "messaging.destination.name": QUEUE, "knocker.endpoint": "stripe",
        "knocker.provider": "stripe", "knocker.duplicate": false, "knocker.signature_valid": true, "http.response.status_code": stored, "knocker.outcome": "stored",
      });
      const again = producers.find((s) => s.attributes["knocker.duplicate"] === true)!;
      assert.equal(again.attributes["messaging.message.id"], String(eventId), "a duplicate names the event it repeats");
      const forged = producers.find((s) => s.attributes["knocker.signature_valid"] === false)!;
      assert.deepEqual(pick(forged.attributes, ["http.response.status_code", "knocker.outcome", "messaging.message.id"]), { "http.response.status_code": 401, "knocker.outcome": "invalid" });
      assert.equal(await sql.one("SELECT trace_context FROM knocker_events WHERE id = ?", eventId), `00-${traceId}-${producer.spanId}-01`, "the event stores its receipt's span context");

      const receipts = (await sdk.metrics())["knocker.receipts"];
      assert.deepEqual(
        ["stored", "duplicate", "invalid"].map((outcome) => pointValue(receipts, { "knocker.endpoint": "stripe", "knocker.outcome": outcome })),
        [1, 1, 1],
      );
      assert.equal(pointValue(receipts, { "knocker.endpoint": "orphans", "knocker.outcome": "stored" }), 1);
      const before = await sdk.metrics();
      assert.equal(pointValue(before["knocker.queue.depth"], { "knocker.state": "due" }), 2, "two events wait");

      // The worker: another process, its own SDK. The stripe handler fails once, then succeeds; the orphan has no handler.
      const child = new Child(fixture("telemetry-worker-child.ts"), [JSON.stringify({ path: target, stripeSecret: SECRET })]);
      t.after(() => child.kill());
      await child.next("ready", 30_000);
      child.send({ type: "go" });
      const done = await child.next("done", 45_000);
      assert.equal((await child.closed).code, 0, child.stderr);
      const consumerSpans = (done.spans as SpanRecord[]).filter((s) => s.kind === "CONSUMER");
      assert.equal(consumerSpans.length, 2, "one CONSUMER span per handler run (none for the event without a handler)");
      for (const [attempt, span] of consumerSpans.sort((a, b) => Number(a.attributes["knocker.attempt"]) - Number(b.attributes["knocker.attempt"])).entries()) {
        assert.equal(span.name, `process ${QUEUE}`);
        assert.equal(span.traceId, traceId, "the run is in the webhook's trace");
        assert.equal(span.parentSpanId, producer.spanId);
        assert.deepEqual(span.links, [{ traceId, spanId: producer.spanId }], "linked to the receipt's span");
        assert.deepEqual(pick(span.attributes, ["messaging.system", "messaging.operation.type", "messaging.destination.name", "messaging.message.id", "knocker.endpoint", "knocker.attempt", "knocker.outcome"]), {
          "messaging.system": "knocker", "messaging.operation.type": "process", "messaging.destination.name": QUEUE, "messaging.message.id": String(eventId),
          "knocker.endpoint": "stripe", "knocker.attempt": attempt + 1, "knocker.outcome": attempt === 0 ? "failed" : "handled",
        });
        assert.equal(span.status, attempt === 0 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
        assert.equal(span.exceptions, attempt === 0 ? 1 : 0);
        if (attempt === 0) assert.equal(span.attributes["error.type"], "Error");
      }
      const childMetrics = done.metrics as Record<string, MetricPoint[]>;
      const durations = childMetrics["messaging.process.duration"]!;
      assert.deepEqual(
        ["failed", "handled"].map((outcome) => pointValue(durations, { "knocker.endpoint": "stripe", "knocker.outcome": outcome, "messaging.destination.name": QUEUE })),
        [1, 1], "one histogram count per handler run");
      assert.ok(durations.every((p) => (p.sum ?? -1) >= 0 && (p.sum ?? 1) < 10), "durations in seconds");
      const attempts = childMetrics["knocker.attempts"];
      assert.deepEqual(["failed", "handled"].map((outcome) => pointValue(attempts, { "knocker.endpoint": "stripe", "knocker.outcome": outcome })), [1, 1]);
      assert.equal(pointValue(attempts, { "knocker.outcome": "dead" }), 1, "the orphan's attempt");

      // The gauges read the database: the parent sees what the child's worker did.
      const after = await sdk.metrics();
      assert.equal(pointValue(after["knocker.events.dead"], { "knocker.endpoint": "orphans" }), 1);
      assert.equal(pointValue(after["knocker.events.dead"], { "knocker.endpoint": "stripe" }), 0);
      for (const state of ["due", "scheduled", "processing"]) assert.equal(pointValue(after["knocker.queue.depth"], { "knocker.state": state, "messaging.destination.name": QUEUE }), 0, state);
      assert.equal(pointValue(after["knocker.queue.oldest_age"], { "knocker.endpoint": "stripe" }), 0);

      // The dashboard's metrics card shows what the gauges report.
      const page = await (await webhooks.dashboard({ authorize: () => true })(new Request("http://127.0.0.1/"))).text();
      const card = [...page.matchAll(/data-metric="([^"]+)" data-attributes="([^"]+)">([^<]+)</g)].map(([, name, attributes, value]) => ({ name, attributes, value: Number(value) }));
      const gauges = ["knocker.queue.depth", "knocker.queue.oldest_age", "knocker.events.dead"].flatMap((name) =>
        after[name]!.map((point) => ({
          name,
          attributes: Object.entries(point.attributes).filter(([key]) => key !== "messaging.destination.name").map(([key, value]) => `${key}=${value}`).join(""),
          value: point.value,
        })));
      const key = (row: { name?: string; attributes?: string }) => `${row.name} ${row.attributes}`;
      assert.deepEqual(card.sort((a, b) => key(a).localeCompare(key(b))), gauges.sort((a, b) => key(a).localeCompare(key(b))));
      assert.equal(card.length, 7);
      await sdk.shutdown();
    });

    test("a receipt's span has ended, and the receipt is counted, when its receive() resolves, alone or among 64 at once; a span processor that throws changes nothing", async (t) => {
      const { db: target } = await engine.location();
      const sdk = telemetrySdk();
      let throwing = false;
      const fail = () => {
        if (throwing) throw new Error("exporter down");
      };
      const faulty = { onStart: fail, onEnd: fail, forceFlush: async () => {}, shutdown: async () => {} };
      const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await import("@opentelemetry/sdk-trace-base");
      const exporter = new InMemorySpanExporter();
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [faulty, new SimpleSpanProcessor(exporter)] });
      const webhooks = open<EngineName>(target, { telemetry: { tracerProvider, meterProvider: sdk.meterProvider } });
      const ep = webhooks.endpoint("plain", { path: "/plain" });
      const producers = () => exporter.getFinishedSpans().filter((span) => span.name.startsWith("create "));

      const one = await ep.receive({ body: JSON.stringify({ n: 0 }), dedupeKey: "k0" });
      // Nothing awaited since: the span must be there already.
      assert.equal(producers().length, 1);
      assert.equal(producers()[0]!.attributes["messaging.message.id"], String(one.eventId));

      const seen: number[] = [];
      const results = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
        const result = await ep.receive({ body: JSON.stringify({ n: i + 1 }), dedupeKey: `k${i + 1}` });
        seen.push(producers().filter((span) => span.attributes["messaging.message.id"] === String(result.eventId)).length);
        return result;
      }));
      assert.deepEqual(seen, Array(64).fill(1), "each caller resumes after its receipt's span ended");
      assert.equal(new Set(results.map((r) => r.eventId)).size, 64);
      assert.equal(pointValue((await sdk.metrics())["knocker.receipts"], { "knocker.endpoint": "plain", "knocker.outcome": "stored" }), 65);

      // A span processor that throws when spans start and end: webhooks are stored and answered,
      // handlers run and settle, errors are receive()'s own.
      throwing = true;
      const stored = await ep.receive({ body: "{}", dedupeKey: "k-after" });
      assert.equal(stored.statusCode, 204);
      assert.equal((await ep.receive({ body: "{}", dedupeKey: "k-after" })).duplicate, true);
      await assert.rejects(ep.receive({ body: 42 as never }), TypeError, "receive()'s own error, not the processor's");
      const served = await serveInbox(webhooks as Knocker);
      t.after(() => served.close()); // and the inbox
      assert.equal(await post(served.port, "/plain", "{}", { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` }), 204);
      let handled = 0;
      ep.handle(() => {
        handled++;
        if (handled === 1) throw new Error("first run fails");
      });
      await drain(webhooks, async () => (await webhooks.listEvents({ status: "handled", limit: 100 })).length === 67, { timeoutMs: 20_000 });
      assert.equal(handled, 68, "67 events, one run failed and retried");
      throwing = false;
      await tracerProvider.shutdown();
      await sdk.shutdown();
    });
  });
}

test("receive() inside the app's span: the receipt's span is its child; nodeHandler() under the app's own HTTP span makes no second SERVER span", async (t) => {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  t.after(() => {
    context.disable();
  });
  const sdk = telemetrySdk();
  const webhooks = open(tempDbPath(), { telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } });
  t.after(() => webhooks.close());
  const ep = webhooks.endpoint("app", { path: "/app" });
  const tracer = sdk.tracerProvider.getTracer("app");
  const appSpan = tracer.startSpan("POST /app-route");
  await context.with(trace.setSpan(context.active(), appSpan), () => ep.receive({ body: "{}" }));
  appSpan.end();
  const producer = sdk.spans().find((s) => s.kind === "PRODUCER")!;
  assert.equal(producer.parentSpanId, appSpan.spanContext().spanId);

  // An async handler's own spans nest under its CONSUMER span.
  ep.handle(async () => {
    tracer.startSpan("downstream call").end();
  }, { transaction: false });
  await drain(webhooks, async () => (await webhooks.listEvents({ status: "handled" })).length === 1);
  const consumer = sdk.spans().find((s) => s.kind === "CONSUMER")!;
  assert.equal(consumer.traceId, producer.traceId);
  assert.equal(sdk.spans().find((s) => s.name === "downstream call")!.parentSpanId, consumer.spanId);

  // Mounted under an app whose HTTP instrumentation already made the request's SERVER span.
  const handler = webhooks.nodeHandler();
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    const span = tracer.startSpan("app SERVER", { kind: 1 });
    context.with(trace.setSpan(context.active(), span), () => void handler(req, res));
    res.on("finish", () => span.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as { port: number }).port;
  assert.equal(await post(port, "/app", "{}", {}) < 300, true);
  const appServer = sdk.spans().find((s) => s.name === "app SERVER")!;
  assert.equal(sdk.spans().filter((s) => s.kind === "SERVER" && s.name !== "app SERVER").length, 0, "no second SERVER span");
  assert.ok(sdk.spans().some((s) => s.kind === "PRODUCER" && s.parentSpanId === appServer.spanId));
});

test("telemetry: false records nothing even with global providers; a bad telemetry option is a typed error", async () => {
  const sdk = telemetrySdk();
  trace.setGlobalTracerProvider(sdk.tracerProvider);
  try {
    const off = open(tempDbPath(), { telemetry: false });
    const ep = off.endpoint("quiet", { path: "/quiet" });
    await ep.receive({ body: "{}", headers: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` } });
    await off.close();
    assert.deepEqual(sdk.spans(), []);
    // The default is the global provider.
    const on = open(tempDbPath());
    await on.endpoint("loud", { path: "/loud" }).receive({ body: "{}", headers: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` } });
    await on.close();
    const producer = sdk.spans().find((s) => s.kind === "PRODUCER")!;
    assert.equal(producer.traceId, "a".repeat(32), "a receive() outside any span continues its headers' traceparent");
    assert.equal(producer.parentSpanId, "b".repeat(16));
  } finally {
    trace.disable();
    propagation.disable();
  }
  for (const bad of [null, "on", [], { tracer: {} }, { tracerProvider: {} }, { meterProvider: 3 }]) {
    assert.throws(() => open(tempDbPath(), { telemetry: bad as never }),
      (error: unknown) => error instanceof KnockerError && error.code === "ERR_INVALID_OPTION" && /"telemetry"/.test(error.message), JSON.stringify(bad));
  }
});

test("a traceparent that is not one is ignored: the receipt's span starts a trace of its own", async () => {
  const sdk = telemetrySdk();
  const webhooks = open(tempDbPath(), { telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } });
  const ep = webhooks.endpoint("x", { path: "/x" });
  for (const header of ["garbage", `ff-${"a".repeat(32)}-${"b".repeat(16)}-01`, `00-${"0".repeat(32)}-${"b".repeat(16)}-01`, `00-${"a".repeat(32)}-${"b".repeat(16)}-01-extra`, "x".repeat(100_000)]) {
    await ep.receive({ body: "{}", headers: { traceparent: header } });
  }
  await webhooks.close();
  const producers = sdk.spans().filter((s) => s.kind === "PRODUCER");
  assert.equal(producers.length, 5);
  assert.ok(producers.every((s) => s.parentSpanId === null && s.traceId !== "a".repeat(32)));
});

function pick(attributes: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => attributes[key] !== undefined).map((key) => [key, attributes[key]]));
}
