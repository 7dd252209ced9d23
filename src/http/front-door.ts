import type { RegisteredEndpoint } from "../endpoints.js";
import { KnockerError } from "../errors.js";
import { BODY_OVER_LIMIT, BODY_OWNED, PRECHECKED, RAW_BODY, type BeforeBody } from "../ingest/ingress.js";
import { normalizeHeaders } from "../ingest/normalize.js";
import type { HeaderMap, HeadersInput, IngestResult, ReceiveInput } from "../interfaces.js";
import type { Context } from "@opentelemetry/api";
import type { Observer } from "../observer.js";
import type { HttpSpan, Telemetry } from "../telemetry/telemetry.js";
import { BodyMacStream } from "../providers/body-mac.js";
import type { RawBody } from "../ingest/raw-body.js";
import type { StreamedMacs } from "../providers/body-mac.js";
import { LargeBodyPace } from "./large-body-pace.js";
import type { BodyLimits, BodyRead } from "./read-body.js";

/** Seconds a provider is asked to wait before retrying a receipt that could not be committed. */
export const RETRY_AFTER_S = 5;

/** Errors of `receive()` that mean "not stored, try again later" (HTTP 503). */
const RETRYABLE = new Set(["ERR_STORAGE", "ERR_STORAGE_BUSY", "ERR_CLOSED"]);

/** One HTTP request as the adapters see it, before the body is read. */
export interface HttpRequest {
  method: string;
  /** The request's path, as parsed from its URL. */
  path: string;
  /** The query string, with its leading "?" ("" when none); it goes to the provider. */
  search: string;
  /** The path endpoints are looked up by (a mount prefix removed); null when outside the prefix. */
  endpointPath: string | null;
  headers: HeadersInput;
  /** `headers` as a map with lower-case names, when the adapter has one for free (node:http's `req.headers`). */
  headerMap?: HeaderMap;
  /** Read the raw body within `limits`; throws ERR_BODY_PARSED when it is gone. */
  readBody(limits: BodyLimits): Promise<BodyRead>;
}

/** What to send back. Bodies are empty except for handshake replies. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** The part of a Knocker the HTTP layer uses. */
export interface FrontDoorKnocker {
  endpointForPath(path: string): RegisteredEndpoint | undefined;
  receiveAt(endpoint: RegisteredEndpoint, input: ReceiveInput, trusted?: boolean, traceContext?: Context): Promise<IngestResult>;
  /** The provider's refusal on headers alone (`Provider.precheck`), or the HMACs to run as the body arrives (`Provider.bodyMacs`). */
  beforeBodyAt(endpoint: RegisteredEndpoint, request: { method: string; headers: HeaderMap; query: URLSearchParams | undefined }): BeforeBody;
  readonly maxBodyBytes: number;
  readonly maxInFlightBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly largeBodyBytesPerSecond: number;
}

const NO_BODY = Buffer.alloc(0);

/**
 * The framework-free core of the HTTP layer: route by endpoint path, check the method, read the
 * body within `maxBodyBytes`, run `receive()` and turn its result (or failure) into a status.
 * Answers never carry internal detail; the reason of a refusal is stored on the delivery row.
 */
export class FrontDoor {
  readonly #knocker: FrontDoorKnocker;
  readonly #observer: Observer;
  readonly #telemetry: Telemetry | null;
  /** Body bytes held by requests in flight, against `maxInFlightBodyBytes`. */
  #inFlightBytes = 0;
  /** Made on first use: the knocker's options are not resolved yet when it builds its front door. */
  #largeBodyPace: LargeBodyPace | undefined;

  constructor(knocker: FrontDoorKnocker, observer: Observer, telemetry: Telemetry | null) {
    this.#telemetry = telemetry;
    this.#knocker = knocker;
    this.#observer = observer;
  }

  /** Whether a path belongs to a registered endpoint (adapters pass other paths on). */
  serves(path: string | null): boolean {
    return path !== null && this.#knocker.endpointForPath(path) !== undefined;
  }

  async answer(request: HttpRequest): Promise<HttpAnswer> {
    const started = performance.now();
    const endpoint = request.endpointPath === null ? undefined : this.#knocker.endpointForPath(request.endpointPath);
    // Headers before the body: the request's trace context is continued from the start.
    const knownHeaders = endpoint === undefined ? undefined : (request.headerMap ?? normalizeHeaders(request.headers));
    const span: HttpSpan | undefined = endpoint === undefined ? undefined : this.#telemetry?.startHttp(request.method, request.path, endpoint, knownHeaders!);
    let handedOver = false;
    const done = (answer: HttpAnswer, result?: IngestResult, error?: unknown): HttpAnswer => {
      if (span !== undefined) {
        span.end(answer.status, error);
        if (!handedOver && endpoint !== undefined && (answer.status === 503 || answer.status === 408)) this.#telemetry!.countRefused(endpoint.name);
      }
      if (!this.#observer.has("http:response")) return answer; // build no report nobody reads
      this.#observer.emit("http:response", {
        method: request.method,
        path: request.path,
        endpoint: endpoint?.name ?? null,
        status: answer.status,
        deliveryId: result?.deliveryId ?? null,
        eventId: result?.eventId ?? null,
        duplicate: result?.duplicate ?? false,
        durationMs: performance.now() - started,
        ...(error === undefined ? {} : { error }),
      });
      return answer;
    };
    if (endpoint === undefined) return done(status(404));
    const headerMap = knownHeaders!;

    const allowsGet = endpoint.provider?.provider.allowsGet === true;
    if (request.method !== "POST" && !(allowsGet && request.method === "GET")) {
      return done(status(405, { allow: allowsGet ? "GET, POST" : "POST" }));
    }

    const knocker = this.#knocker;
    const query = request.search === "" ? undefined : new URLSearchParams(request.search);
    // Verify before reading: a request its provider refuses on headers alone costs no body read.
    const { refusal, macs } = knocker.beforeBodyAt(endpoint, { method: request.method, headers: headerMap, query });
    const receive = (input: ReceiveInput) => {
      handedOver = true;
      return this.#receive(endpoint, input, done, span?.context);
    };
    if (refusal !== undefined) {
      return receive({ body: NO_BODY, headers: headerMap, query, method: request.method, [PRECHECKED]: refusal, [BODY_OWNED]: true as const } as ReceiveInput);
    }

    // A declared length is reserved before reading, so concurrent requests cannot all start
    // reading and only find out later that together they are over the budget.
    const declared = declaredLength(headerMap["content-length"]);
    let charged = 0;
    let received = 0;
    if (declared !== null && declared <= knocker.maxBodyBytes) {
      if (this.#inFlightBytes + declared > knocker.maxInFlightBodyBytes) {
        return done(status(503, { "retry-after": String(RETRY_AFTER_S), connection: "close" })); // unread: nothing to store
      }
      this.#inFlightBytes += declared;
      charged = declared;
    }
    // The body's HMACs run chunk by chunk as it arrives: a large body is never hashed in one long
    // step that holds up every other request.
    const stream = macs === undefined ? undefined : new BodyMacStream(macs);
    const limits: BodyLimits = {
      onChunk: stream === undefined ? undefined : (chunk) => stream.update(chunk),
      pace: (bytes) => (this.#largeBodyPace ??= new LargeBodyPace(knocker.largeBodyBytesPerSecond)).wait(received, bytes),
      maxBytes: knocker.maxBodyBytes,
      timeoutMs: knocker.bodyTimeoutMs,
      charge: (bytes) => {
        received += bytes;
        const extra = received - charged;
        if (extra <= 0) return true;
        if (this.#inFlightBytes + extra > knocker.maxInFlightBodyBytes) return false;
        this.#inFlightBytes += extra;
        charged += extra;
        return true;
      },
    };
    try {
      let read: BodyRead;
      try {
        read = await request.readBody(limits);
      } catch (error) {
        if (error instanceof KnockerError) {
          // ERR_BODY_PARSED: a mounting mistake, not a request problem. Reported like any 5xx, then
          // thrown so it reaches the developer (the adapter's `next(error)`, or a rejection).
          done(status(500), undefined, error);
          throw error;
        }
        return done(status(400)); // the client went away mid-body: nothing to store
      }
      if (read.refused === "busy") return done(status(503, { "retry-after": String(RETRY_AFTER_S), connection: "close" }));
      if (read.refused === "timeout") return done(status(408, { connection: "close" }));
      const input: ReceiveInput & { [BODY_OVER_LIMIT]?: true; [RAW_BODY]: { body: RawBody; macs: StreamedMacs | undefined } } = {
        body: NO_BODY,
        headers: request.headers,
        query,
        method: request.method,
        // read-body holds the chunks and nobody else does: stored without a defensive copy
        [RAW_BODY]: { body: read.body, macs: read.overLimit ? undefined : stream?.finish() },
      };
      if (read.overLimit) input[BODY_OVER_LIMIT] = true;
      return await receive(input);
    } finally {
      this.#inFlightBytes -= charged; // the body is stored (or refused) by now: give its bytes back
    }
  }

  async #receive(
    endpoint: RegisteredEndpoint,
    input: ReceiveInput,
    done: (answer: HttpAnswer, result?: IngestResult, error?: unknown) => HttpAnswer,
    traceContext: Context | undefined,
  ): Promise<HttpAnswer> {
    let result: IngestResult;
    try {
      result = await this.#knocker.receiveAt(endpoint, input, false, traceContext);
    } catch (error) {
      const retryable = error instanceof KnockerError && RETRYABLE.has(error.code);
      return done(retryable ? status(503, { "retry-after": String(RETRY_AFTER_S) }) : status(500), undefined, error);
    }
    if (result.reply) {
      return done({ status: 200, headers: { "content-type": result.reply.contentType }, body: result.reply.body }, result);
    }
    return done(status(result.statusCode), result);
  }
}

/** A Content-Length header's value, or null when absent or not a plain number. */
function declaredLength(value: string | string[] | undefined): number | null {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return null;
  return Number(value);
}

function status(code: number, headers: Record<string, string> = {}): HttpAnswer {
  return { status: code, headers, body: null };
}
