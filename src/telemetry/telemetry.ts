import { readFileSync } from "node:fs";
import type { Attributes, BatchObservableResult, Context, Histogram, Meter, ObservableGauge, Span, SpanStatusCode, Tracer } from "@opentelemetry/api";
import type { RegisteredHandler } from "../endpoints.js";
import { KnockerError } from "../errors.js";
import type { Event, HeaderMap, IngestResult, TelemetryOptions } from "../interfaces.js";
import type { Receipt } from "../ingest/receipt.js";
import { isThenable } from "../worker/dispatch-rules.js";
import { ATTR, DURATION_BUCKETS_S, MESSAGING_SYSTEM, METRIC, TRACER_NAME, type ReceiptOutcome } from "./conventions.js";
import type { InboxHealth } from "./health.js";
import { loadOtelApi, type OtelApi } from "./load-api.js";
import { HeadersClass } from "../ingest/normalize.js";
import { formatTraceParent, parseTraceParent, traceHeaders } from "./trace-context.js";
import { traceParentOf } from "./event-trace.js";
import { Tally } from "./tally.js";

/** How a job's run ended, as the worker learns it (the engines' JobOutcome kinds, and two of the worker's own). */
export type RunEnd = "handled" | "failed" | "dead" | "lost" | "skipped" | "released" | "rolled_back";

/** The HTTP request's span, or the app's when its own instrumentation already made one. */
export interface HttpSpan {
  readonly context: Context;
  end(status: number, error?: unknown): void;
}


interface ProcessRun {
  readonly eventId: number;
  readonly span: Span;
  readonly endpoint: string;
  readonly started: number;
  /** Seconds the handler took, once it returned or threw. */
  durationS: number | null;
  handlerError: unknown;
  ended: boolean;
}

/** Reads the caller's headers (names in any case) for the global propagator. */
const HEADER_GETTER = {
  keys: (carrier: object) => Object.keys(carrier),
  get: (carrier: object, key: string) => {
    const record = carrier as Record<string, unknown>;
    const value = record[key] ?? record[Object.keys(record).find((name) => name.toLowerCase() === key) ?? ""];
    return typeof value === "string" || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Knocker's traces and metrics (CONTRACT §13) on the app's `@opentelemetry/api`, or null: with
 * `telemetry: false`, or when the API is not installed, nothing is recorded and no call site
 * does more than check for null.
 */
export function createTelemetry(option: TelemetryOptions | false | undefined, queueName: string): Telemetry | null {
  if (option === false) return null;
  if (option !== undefined && (option === null || typeof option !== "object" || Array.isArray(option))) {
    throw telemetryError("must be false or { tracerProvider, meterProvider }");
  }
  for (const key of Object.keys(option ?? {})) {
    if (key !== "tracerProvider" && key !== "meterProvider") throw telemetryError(`has no option "${key}" (known: tracerProvider, meterProvider)`);
  }
  const api = loadOtelApi();
  if (api === null) {
    if (option?.tracerProvider !== undefined || option?.meterProvider !== undefined) {
      throw telemetryError("was given providers, but @opentelemetry/api is not installed: npm install @opentelemetry/api");
    }
    return null;
  }
  const tracerProvider = option?.tracerProvider ?? api.trace.getTracerProvider();
  const meterProvider = option?.meterProvider ?? api.metrics.getMeterProvider();
  if (typeof (tracerProvider as { getTracer?: unknown }).getTracer !== "function") throw telemetryError('"tracerProvider" must have a getTracer() method');
  if (typeof (meterProvider as { getMeter?: unknown }).getMeter !== "function") throw telemetryError('"meterProvider" must have a getMeter() method');
  const version = packageVersion();
  return new Telemetry(
    api,
    (tracerProvider as { getTracer(name: string, version?: string): Tracer }).getTracer(TRACER_NAME, version),
    (meterProvider as { getMeter(name: string, version?: string): Meter }).getMeter(TRACER_NAME, version),
    queueName,
  );
}

/** Knocker's version, the instrumentation scope's (src/ and dist/ both sit two levels below package.json). */
function packageVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export class Telemetry {
  readonly #api: OtelApi;
  readonly #tracer: Tracer;
  readonly #meter: Meter;
  readonly #receipts: Tally;
  readonly #attempts: Tally;
  readonly #duration: Histogram;
  readonly #gauges: { depth: ObservableGauge; oldest: ObservableGauge; dead: ObservableGauge };
  readonly #queueName: string;
  #healthCallback: ((result: BatchObservableResult) => Promise<void>) | null = null;
  readonly #producerName: string;
  readonly #producerAttributesBy = new Map<string, Attributes>();
  /** Handler runs whose outcome the worker has not reported yet, by event id. */
  readonly #pending = new Map<number, ProcessRun>();
  /** Receipts settled in this turn whose spans are not ended yet: span, result, span, result… */
  readonly #ending: Array<ReceiptSpan | IngestResult> = [];
  /** Ends the spans in #ending; a bound function, so scheduling it allocates nothing. */
  readonly #endSettled = (): void => {
    const ending = this.#ending;
    for (let i = 0; i < ending.length; i += 2) (ending[i] as ReceiptSpan).end(ending[i + 1] as IngestResult);
    ending.length = 0;
  };
  /** The span of a run or receipt whose real span could not be made. */
  readonly #notRecording: Span;

  constructor(api: OtelApi, tracer: Tracer, meter: Meter, queueName: string) {
    this.#queueName = queueName;
    this.#notRecording = api.trace.wrapSpanContext(api.INVALID_SPAN_CONTEXT);
    this.#producerName = `create ${queueName}`;
    this.#api = api;
    this.#tracer = tracer;
    this.#meter = meter;
    this.#receipts = Tally.shared(meter, METRIC.receipts, { description: "Webhook receipts, by endpoint and outcome", unit: "{receipt}" });
    this.#attempts = Tally.shared(meter, METRIC.attempts, { description: "Handler attempts, by endpoint and outcome", unit: "{attempt}" });
    this.#duration = meter.createHistogram(METRIC.processDuration, {
      description: "Duration of handler runs",
      unit: "s",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.#gauges = {
      depth: meter.createObservableGauge(METRIC.queueDepth, { description: "Jobs in the queue, by state (due, scheduled, processing)", unit: "{job}" }),
      oldest: meter.createObservableGauge(METRIC.oldestAge, { description: "Age of the oldest event still waiting for a handler, by endpoint", unit: "s" }),
      dead: meter.createObservableGauge(METRIC.dead, { description: "Dead events, by endpoint", unit: "{event}" }),
    };
  }

  // --- the HTTP front door -------------------------------------------------------------------

  /**
   * A SERVER span for a request to an endpoint, continuing the request's `traceparent` — unless
   * the app's HTTP instrumentation already has a span for it, which is then the parent of the
   * receipt's span and no second SERVER span is made.
   */
  startHttp(method: string, path: string, endpoint: { name: string; path: string }, headers: HeaderMap): HttpSpan {
    const api = this.#api;
    const active = api.context.active();
    if (this.#hasSpan(active)) return { context: active, end: () => {} };
    let span: Span;
    try {
      span = this.#tracer.startSpan(
        `${method} ${endpoint.path}`,
        {
          kind: api.SpanKind.SERVER,
          attributes: { [ATTR.httpMethod]: method, [ATTR.urlPath]: path, [ATTR.httpRoute]: endpoint.path, [ATTR.endpoint]: endpoint.name },
        },
        this.#extract(first(headers["traceparent"]), first(headers["tracestate"]), headers),
      );
    } catch {
      return { context: active, end: () => {} }; // the app's propagator or span processor threw
    }
    return {
      context: api.trace.setSpan(active, span),
      end: (status, error) => {
        try {
          span.setAttribute(ATTR.httpStatus, status);
          if (status >= 500) {
            span.setAttribute(ATTR.errorType, error === undefined ? String(status) : errorType(error));
            span.setStatus({ code: api.SpanStatusCode.ERROR });
          }
          span.end();
        } catch {
          // the app's span processor threw: the answer is sent all the same
        }
      },
    };
  }

  /** A request the front door answered before `receive()` (in-flight budget, body timeout): not stored. */
  countRefused(endpoint: string): void {
    this.#receipts.add(endpoint, "refused");
  }

  // --- receipts ------------------------------------------------------------------------------

  /**
   * The PRODUCER span of one `receive()` / `ingest()`. Its parent: the front door's span, else the
   * app's active span, else the `traceparent` among the receipt's headers.
   */
  startReceipt(endpoint: { name: string; provider: { provider: { name: string } } | null }, parent: Context | undefined, headers: unknown): ReceiptSpan {
    const api = this.#api;
    let span: Span;
    try {
      let context = parent;
      if (context === undefined) {
        const active = api.context.active();
        if (this.#hasSpan(active)) {
          context = active;
        } else {
          const { traceparent, tracestate } = traceHeaders(headers);
          context = this.#extract(traceparent, tracestate, headers);
        }
      }
      span = this.#tracer.startSpan(this.#producerName, { kind: api.SpanKind.PRODUCER, attributes: this.#producerAttributes(endpoint) }, context);
    } catch {
      span = this.#notRecording; // the app's propagator or span processor threw: the receipt is stored untraced
    }
    return new ReceiptSpan(span, endpoint.name, this.#receipts, api.SpanStatusCode.ERROR);
  }

  /**
   * `receive()` has its result (stored, a duplicate, or answered with a 4xx): the receipt's span
   * ends with the others that settled in this turn, in one microtask that runs before any of their
   * callers resumes (this is called from a reaction that comes before the caller's). A group commit
   * settles up to 64 receipts at once; ending their spans in one loop, rather than each between
   * the next receipts' HMAC and JSON where the SDK's code runs cold, measured 5–7% of ingest with
   * the SDK on.
   */
  receiptSettled(span: ReceiptSpan, result: IngestResult): IngestResult {
    if (this.#ending.length === 0) queueMicrotask(this.#endSettled);
    this.#ending.push(span, result);
    return result;
  }

  /** The PRODUCER span's attributes that depend only on the endpoint, made once per endpoint. */
  #producerAttributes(endpoint: { name: string; provider: { provider: { name: string } } | null }): Attributes {
    let attributes = this.#producerAttributesBy.get(endpoint.name);
    if (attributes === undefined) {
      const made: Attributes = {
        [ATTR.messagingSystem]: MESSAGING_SYSTEM,
        [ATTR.operationType]: "create",
        [ATTR.operationName]: "create",
        [ATTR.destination]: this.#queueName,
        [ATTR.endpoint]: endpoint.name,
      };
      if (endpoint.provider !== null) made[ATTR.provider] = endpoint.provider.provider.name;
      this.#producerAttributesBy.set(endpoint.name, (attributes = Object.freeze(made)));
    }
    return attributes;
  }

  /** Whether `context` carries a span of the app's (its HTTP instrumentation's, its own). */
  #hasSpan(context: Context): boolean {
    const span = this.#api.trace.getSpan(context);
    return span !== undefined && this.#api.trace.isSpanContextValid(span.spanContext());
  }

  /**
   * The parent a request's `traceparent` names, read as W3C Trace Context; without one, what the
   * global propagator finds in the headers (an app's B3 or Jaeger headers).
   */
  #extract(traceparent: string | undefined, tracestate: string | undefined, headers: unknown): Context {
    const api = this.#api;
    const root = api.ROOT_CONTEXT;
    if (traceparent === undefined) {
      if (headers === null || typeof headers !== "object" || (HeadersClass !== undefined && headers instanceof HeadersClass)) return root;
      return api.propagation.extract(root, headers, HEADER_GETTER);
    }
    const parsed = parseTraceParent(traceparent);
    if (parsed === null) return root;
    const traceState = tracestate !== undefined && tracestate.length <= 512 ? api.createTraceState(tracestate) : undefined;
    return api.trace.setSpanContext(root, { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.traceFlags, isRemote: true, traceState });
  }

  // --- handler runs --------------------------------------------------------------------------

  /**
   * The handler with a CONSUMER span around each run: a child of the receipt's stored span
   * context, and linked to it. The span is ended when the worker reports the run's outcome
   * (`settle`), which the handler itself does not know (a retry, or the last attempt).
   */
  wrap(endpoint: string, registered: RegisteredHandler): RegisteredHandler {
    const run = <A extends unknown[], R>(original: (event: Event, ...rest: A) => R) =>
      (event: Event, ...rest: A): R => {
        const process = this.#startProcess(endpoint, event);
        let value: R;
        try {
          value = this.#api.context.with(this.#api.trace.setSpan(this.#api.context.active(), process.span), () => original(event, ...rest));
        } catch (error) {
          finish(process, error);
          throw error;
        }
        if (isThenable(value)) value.then(() => finish(process, undefined), (error: unknown) => finish(process, error));
        else finish(process, undefined);
        return value;
      };
    return registered.transaction
      ? { transaction: true, fn: run(registered.fn) }
      : { transaction: false, fn: run(registered.fn), timeoutS: registered.timeoutS };
  }

  #startProcess(endpoint: string, event: Event): ProcessRun {
    const api = this.#api;
    const stored = parseTraceParent(traceParentOf(event));
    const producer = stored === null ? null : { ...stored, isRemote: true };
    const attributes: Attributes = {
      [ATTR.messagingSystem]: MESSAGING_SYSTEM,
      [ATTR.operationType]: "process",
      [ATTR.operationName]: "process",
      [ATTR.destination]: this.#queueName,
      [ATTR.messageId]: String(event.id),
      [ATTR.endpoint]: endpoint,
      [ATTR.attempt]: event.attemptCount + 1,
    };
    if (event.eventType !== null) attributes[ATTR.eventType] = event.eventType;
    // A run starts a trace of its own only when the receipt has no stored context (stored before
    // telemetry was on, or ingested by another binding); it never joins whatever happens to be active.
    const parent = producer === null ? api.ROOT_CONTEXT : api.trace.setSpanContext(api.ROOT_CONTEXT, producer);
    let span: Span;
    try {
      span = this.#tracer.startSpan(
        `process ${this.#queueName}`,
        { kind: api.SpanKind.CONSUMER, attributes, links: producer === null ? [] : [{ context: producer }] },
        parent,
      );
    } catch {
      span = this.#notRecording; // the app's span processor threw: the handler runs untraced
    }
    const run: ProcessRun = { eventId: event.id, span, endpoint, started: performance.now(), durationS: null, handlerError: undefined, ended: false };
    const earlier = this.#pending.get(event.id);
    if (earlier !== undefined) this.#end(earlier, "lost", new KnockerError("ERR_CLAIM_LOST", "the event ran again before this run's outcome was recorded"));
    this.#pending.set(event.id, run);
    return run;
  }

  /** The worker learned how the run of `eventId` ended (a batch committed, an async run settled). */
  settle(eventId: number | null, end: RunEnd, error?: unknown): void {
    if (eventId === null) return;
    const run = this.#pending.get(eventId);
    if (run === undefined) {
      // Dead without a handler run (no handler registered): still an attempt.
      if (end === "dead") this.#attempts.add(null, "dead");
      return;
    }
    this.#end(run, end, error);
  }

  /** close(): runs still open end as released (their claims go back or expire). */
  endAll(): void {
    for (const run of [...this.#pending.values()]) this.#end(run, "released");
  }

  #end(run: ProcessRun, end: RunEnd, error?: unknown): void {
    if (run.ended) return;
    run.ended = true;
    if (this.#pending.get(run.eventId) === run) this.#pending.delete(run.eventId);
    const api = this.#api;
    const durationS = run.durationS ?? (performance.now() - run.started) / 1000;
    const failure = error ?? (end === "handled" || end === "skipped" || end === "released" ? undefined : run.handlerError);
    const attributes: Attributes = {
      [ATTR.messagingSystem]: MESSAGING_SYSTEM,
      [ATTR.destination]: this.#queueName,
      [ATTR.operationName]: "process",
      [ATTR.endpoint]: run.endpoint,
      [ATTR.outcome]: end,
    };
    const failed = end === "failed" || end === "dead" || end === "lost" || end === "rolled_back";
    if (failed) attributes[ATTR.errorType] = failure === undefined ? end : errorType(failure);
    this.#duration.record(durationS, attributes);
    if (end === "handled" || end === "failed" || end === "dead" || end === "lost") {
      this.#attempts.add(run.endpoint, end);
    }
    try {
      run.span.setAttribute(ATTR.outcome, end);
      if (failed) {
        run.span.setAttribute(ATTR.errorType, attributes[ATTR.errorType] as string);
        if (failure !== undefined && failure !== run.handlerError) recordException(run.span, failure);
        run.span.setStatus({ code: api.SpanStatusCode.ERROR, message: failure === undefined ? end : errorMessage(failure) });
      }
      run.span.end();
    } catch {
      // the app's span processor threw: the outcome is recorded in the database all the same
    }
  }

  // --- gauges --------------------------------------------------------------------------------

  /** Report the inbox's queue depth, oldest waiting event and dead events at each collection. */
  observeHealth(read: () => Promise<InboxHealth>): void {
    const { depth, oldest, dead } = this.#gauges;
    const queue = this.#queueName;
    this.#healthCallback = async (result) => {
      let health: InboxHealth;
      try {
        health = await read();
      } catch {
        return; // closed, or the database is busy: this collection has no values
      }
      for (const state of ["due", "scheduled", "processing"] as const) {
        result.observe(depth, health.queue[state], { [ATTR.destination]: queue, [ATTR.state]: state });
      }
      for (const endpoint of health.endpoints) {
        result.observe(oldest, endpoint.oldestUnhandledAgeS, { [ATTR.destination]: queue, [ATTR.endpoint]: endpoint.name });
        result.observe(dead, endpoint.dead, { [ATTR.endpoint]: endpoint.name });
      }
    };
    this.#meter.addBatchObservableCallback(this.#healthCallback, [depth, oldest, dead]);
  }

  close(): void {
    this.#endSettled();
    this.endAll();
    this.#receipts.close();
    this.#attempts.close();
    if (this.#healthCallback !== null) {
      const { depth, oldest, dead } = this.#gauges;
      this.#meter.removeBatchObservableCallback(this.#healthCallback, [depth, oldest, dead]);
      this.#healthCallback = null;
    }
  }
}

/**
 * One receipt's PRODUCER span; its context is what the event stores. Set `receipt` once it is
 * built, then `end()` once `receive()` settles. A class and single attribute writes rather than
 * closures and an attributes object: this runs once per webhook, on the ingest path.
 */
export class ReceiptSpan {
  readonly traceParent: string | null;
  receipt: Receipt | null = null;
  readonly #span: Span;
  readonly #endpoint: string;
  readonly #tally: Tally;
  readonly #errorCode: SpanStatusCode;

  constructor(span: Span, endpoint: string, tally: Tally, errorCode: SpanStatusCode) {
    this.#span = span;
    this.#endpoint = endpoint;
    this.#tally = tally;
    this.#errorCode = errorCode;
    this.traceParent = formatTraceParent(span.spanContext());
  }

  end(result: IngestResult | null, error?: unknown): void {
    const { receipt } = this;
    const outcome = receiptOutcome(receipt, result, error);
    this.#tally.add(this.#endpoint, outcome);
    try {
      this.#record(receipt, outcome, result, error);
    } catch {
      // the app's span processor threw: the receipt is stored (or refused) all the same
    }
  }

  #record(receipt: Receipt | null, outcome: ReceiptOutcome, result: IngestResult | null, error: unknown): void {
    const span = this.#span;
    if (!span.isRecording()) return;
    span.setAttribute(ATTR.outcome, outcome);
    if (receipt !== null) {
      span.setAttribute(ATTR.signatureValid, receipt.signatureValid);
      if (receipt.eventType !== null) span.setAttribute(ATTR.eventType, receipt.eventType);
    }
    if (result !== null) {
      span.setAttribute(ATTR.duplicate, result.duplicate);
      span.setAttribute(ATTR.httpStatus, result.statusCode);
      if (result.eventId !== null) span.setAttribute(ATTR.messageId, String(result.eventId));
      if (result.deliveryId !== null) span.setAttribute(ATTR.deliveryId, result.deliveryId);
    }
    if (error !== undefined) {
      span.setAttribute(ATTR.errorType, errorType(error));
      span.setStatus({ code: this.#errorCode, message: errorMessage(error) });
    }
    span.end();
  }
}

function finish(run: ProcessRun, error: unknown): void {
  if (run.durationS !== null || run.ended) return;
  run.durationS = (performance.now() - run.started) / 1000;
  if (error !== undefined) {
    run.handlerError = error;
    try {
      recordException(run.span, error);
    } catch {
      // the app's span processor threw: the handler's own error is what counts
    }
  }
}

function recordException(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : { name: "Error", message: errorMessage(error) });
}

function receiptOutcome(receipt: Receipt | null, result: IngestResult | null, error: unknown): ReceiptOutcome {
  if (error !== undefined || receipt === null || result === null) return "refused";
  if (!receipt.signatureValid) {
    if (receipt.rejectStatus === 413) return "too_large";
    if (receipt.rejectStatus === 404) return "refused"; // a disabled endpoint
    return "invalid";
  }
  if (receipt.handshake) return "handshake";
  return result.duplicate ? "duplicate" : "stored";
}

/** The conventions' `error.type`: a KnockerError's code, else the error's class name. */
function errorType(error: unknown): string {
  if (error instanceof KnockerError) return error.code;
  if (error instanceof Error) return error.name || "Error";
  return "_OTHER";
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function telemetryError(problem: string): KnockerError {
  return new KnockerError("ERR_INVALID_OPTION", `open() option "telemetry" ${problem}`);
}
