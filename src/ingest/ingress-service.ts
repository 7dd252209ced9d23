import type { EndpointRegistry, RegisteredEndpoint } from "../endpoints.js";
import type { FrontDoorKnocker } from "../http/front-door.js";
import type { HeaderMap, IngestInput, IngestResult, ReceiveInput } from "../interfaces.js";
import type { Context } from "@opentelemetry/api";
import type { Observer } from "../observer.js";
import type { ReceiptSpan, Telemetry } from "../telemetry/telemetry.js";
import type { ResolvedOptions } from "../options.js";
import type { ReceiptStore, RejectionCounter } from "../store/store.js";
import { beforeBody, buildReceipt, type BeforeBody } from "./ingress.js";
import type { Receipt } from "./receipt.js";

/**
 * Ingress for one inbox: build the receipt (the provider's verdict, identity, limits), apply the
 * rejection budget, hand it to the engine's group commit. Shared by `receive()`, `ingest()`,
 * `Endpoint.receive()` and the HTTP layer, which sees it as its FrontDoorKnocker.
 */
export class IngressService implements FrontDoorKnocker {
  readonly #endpoints: EndpointRegistry;
  readonly #options: ResolvedOptions;
  readonly #receipts: ReceiptStore;
  readonly #rejections: RejectionCounter;
  readonly #assertOpen: () => void;
  readonly #observer: Observer;
  readonly #telemetry: Telemetry | null;

  constructor(
    endpoints: EndpointRegistry,
    options: ResolvedOptions,
    store: { receipts: ReceiptStore; rejections: RejectionCounter },
    observer: Observer,
    assertOpen: () => void,
    telemetry: Telemetry | null,
  ) {
    this.#telemetry = telemetry;
    this.#observer = observer;
    this.#endpoints = endpoints;
    this.#options = options;
    this.#receipts = store.receipts;
    this.#rejections = store.rejections;
    this.#assertOpen = assertOpen;
  }

  get maxBodyBytes(): number {
    return this.#options.maxBodyBytes;
  }

  get maxInFlightBodyBytes(): number {
    return this.#options.maxInFlightBodyBytes;
  }

  get bodyTimeoutMs(): number {
    return this.#options.bodyTimeoutMs;
  }

  get largeBodyBytesPerSecond(): number {
    return this.#options.largeBodyBytesPerSecond;
  }

  /** The endpoint serving an HTTP path, if any. */
  endpointForPath(path: string): RegisteredEndpoint | undefined {
    return this.#endpoints.byPath(path);
  }

  /** The HTTP layer's look at headers before it reads a body. */
  beforeBodyAt(endpoint: RegisteredEndpoint, request: { method: string; headers: HeaderMap; query: URLSearchParams | undefined }): BeforeBody {
    return beforeBody(endpoint, request, this.#options.now());
  }

  /** `traceContext`: the HTTP request's span (telemetry), parent of the receipt's span. */
  receiveAt(endpoint: RegisteredEndpoint, input: ReceiveInput | IngestInput, trusted = false, traceContext?: Context): Promise<IngestResult> {
    if (this.#telemetry === null) return this.#receive(endpoint, input, trusted, null);
    const telemetry = this.#telemetry;
    const span = telemetry.startReceipt(endpoint, traceContext, (input as { headers?: unknown } | null)?.headers);
    return this.#receive(endpoint, input, trusted, span).then(
      (value) => telemetry.receiptSettled(span, value),
      (error: unknown) => {
        span.end(null, error);
        throw error;
      },
    );
  }

  #receive(endpoint: RegisteredEndpoint, input: ReceiveInput | IngestInput, trusted: boolean, span: ReceiptSpan | null): Promise<IngestResult> {
    const submit = (receipt: Receipt): Promise<IngestResult> => {
      if (span !== null) span.receipt = receipt;
      this.#assertOpen(); // an async verify() may outlast close()
      if (receipt.dropped) return Promise.resolve({ deliveryId: null, eventId: null, duplicate: false, statusCode: receipt.rejectStatus });
      return this.#receipts.submit(receipt);
    };
    try {
      this.#assertOpen();
      const now = this.#options.now();
      const receipt = buildReceipt(endpoint, input, {
        now,
        maxBodyBytes: this.#options.maxBodyBytes,
        invalidBodyBytes: this.#options.invalidBodyBytes,
        trusted,
        // Only what came in unverified is budgeted: ingest() is the app's own, trusted call.
        admitRejection: trusted ? undefined : () => this.#rejections.admit(endpoint.id, endpoint.name, now),
        orderingKeyError: endpoint.orderingKey === null ? undefined : (error) => this.#observer.emit("ingest:ordering-key-error", { endpoint: endpoint.name, error }),
        traceParent: span?.traceParent ?? null,
      });
      return receipt instanceof Promise ? receipt.then(submit) : submit(receipt);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
