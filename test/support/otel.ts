// The OpenTelemetry SDK's in-memory exporters, for the telemetry tests: a tracer provider whose
// finished spans are kept, and a meter provider read on demand; both reduced to plain JSON so a
// child process can send what it recorded to the parent.
import { SpanKind, type Attributes } from "@opentelemetry/api";
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

export interface SpanRecord {
  name: string;
  kind: "SERVER" | "PRODUCER" | "CONSUMER" | "CLIENT" | "INTERNAL";
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Attributes;
  links: Array<{ traceId: string; spanId: string }>;
  status: number;
  exceptions: number;
}

export interface MetricPoint {
  attributes: Attributes;
  /** A counter's or gauge's value; a histogram's count. */
  value: number;
  sum?: number;
}

/** A MetricReader the test collects from when it wants (no timer). */
class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export function telemetrySdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): SpanRecord[] => exporter.getFinishedSpans().map(spanRecord),
    /** Every instrument's points, by instrument name. */
    metrics: async (): Promise<Record<string, MetricPoint[]>> => {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      const out: Record<string, MetricPoint[]> = {};
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          out[metric.descriptor.name] = (metric.dataPoints as Array<DataPoint<number | Histogram>>).map((point) =>
            typeof point.value === "number"
              ? { attributes: point.attributes, value: point.value }
              : { attributes: point.attributes, value: point.value.count, sum: point.value.sum });
        }
      }
      return out;
    },
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

function spanRecord(span: ReadableSpan): SpanRecord {
  return {
    name: span.name,
    kind: SpanKind[span.kind] as SpanRecord["kind"],
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    attributes: span.attributes,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    status: span.status.code,
    exceptions: span.events.filter((event) => event.name === "exception").length,
  };
}

/** The value of the point whose attributes include `match` (0 when there is none). */
export function pointValue(points: readonly MetricPoint[] | undefined, match: Attributes): number {
  const point = (points ?? []).find((p) => Object.entries(match).every(([key, value]) => p.attributes[key] === value));
  return point?.value ?? 0;
}
