// Names of spans, attributes and instruments: OpenTelemetry's semantic conventions for messaging
// and HTTP where one exists, `knocker.*` for the rest. In one place so docs and tests agree.

export const TRACER_NAME = "knocker";

export const ATTR = {
  messagingSystem: "messaging.system",
  destination: "messaging.destination.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
  errorType: "error.type",
  httpMethod: "http.request.method",
  httpRoute: "http.route",
  urlPath: "url.path",
  httpStatus: "http.response.status_code",
  endpoint: "knocker.endpoint",
  provider: "knocker.provider",
  duplicate: "knocker.duplicate",
  signatureValid: "knocker.signature_valid",
  deliveryId: "knocker.delivery_id",
  eventType: "knocker.event_type",
  attempt: "knocker.attempt",
  outcome: "knocker.outcome",
  state: "knocker.state",
} as const;

export const MESSAGING_SYSTEM = "knocker";

export const METRIC = {
  processDuration: "messaging.process.duration",
  receipts: "knocker.receipts",
  attempts: "knocker.attempts",
  queueDepth: "knocker.queue.depth",
  oldestAge: "knocker.queue.oldest_age",
  dead: "knocker.events.dead",
} as const;

/** The messaging conventions' advice for duration histograms, in seconds. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** What became of one receipt, as `knocker.receipts` counts it. */
export type ReceiptOutcome = "stored" | "duplicate" | "handshake" | "invalid" | "too_large" | "refused";

/** What became of one handler run, as `knocker.attempts` counts it. */
export type AttemptOutcome = "handled" | "failed" | "dead" | "lost";
