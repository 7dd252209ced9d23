import type { RegisteredEndpoint } from "../endpoints.js";
import { KnockerError } from "../errors.js";
import { BODY_OVER_LIMIT, BODY_OWNED } from "../ingest/ingress.js";
import type { HeadersInput, IngestResult, ReceiveInput } from "../interfaces.js";
import type { Observer } from "../observer.js";
import type { BodyRead } from "./read-body.js";

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
  /** Read the raw body, stopping past `limit` bytes; throws ERR_BODY_PARSED when it is gone. */
  readBody(limit: number): Promise<BodyRead>;
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
  receiveAt(endpoint: RegisteredEndpoint, input: ReceiveInput): Promise<IngestResult>;
  readonly maxBodyBytes: number;
}

/**
 * The framework-free core of the HTTP layer: route by endpoint path, check the method, read the
 * body within `maxBodyBytes`, run `receive()` and turn its result (or failure) into a status.
 * Answers never carry internal detail; the reason of a refusal is stored on the delivery row.
 */
export class FrontDoor {
  readonly #knocker: FrontDoorKnocker;
  readonly #observer: Observer;

  constructor(knocker: FrontDoorKnocker, observer: Observer) {
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
    const done = (answer: HttpAnswer, result?: IngestResult, error?: unknown): HttpAnswer => {
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

    const allowsGet = endpoint.provider?.provider.allowsGet === true;
    if (request.method !== "POST" && !(allowsGet && request.method === "GET")) {
      return done(status(405, { allow: allowsGet ? "GET, POST" : "POST" }));
    }

    let read: BodyRead;
    try {
      read = await request.readBody(this.#knocker.maxBodyBytes);
    } catch (error) {
      if (error instanceof KnockerError) {
        // ERR_BODY_PARSED: a mounting mistake, not a request problem. Reported like any 5xx, then
        // thrown so it reaches the developer (the adapter's `next(error)`, or a rejection).
        done(status(500), undefined, error);
        throw error;
      }
      return done(status(400)); // the client went away mid-body: nothing to store
    }

    const input: ReceiveInput & { [BODY_OVER_LIMIT]?: true; [BODY_OWNED]: true } = {
      body: read.body,
      headers: request.headers,
      query: request.search === "" ? undefined : new URLSearchParams(request.search),
      method: request.method,
      [BODY_OWNED]: true, // read-body assembled it (Buffer.concat): a copy of its own
    };
    if (read.overLimit) input[BODY_OVER_LIMIT] = true;

    let result: IngestResult;
    try {
      result = await this.#knocker.receiveAt(endpoint, input);
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

function status(code: number, headers: Record<string, string> = {}): HttpAnswer {
  return { status: code, headers, body: null };
}
