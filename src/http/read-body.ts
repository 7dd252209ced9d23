import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { KnockerError } from "../errors.js";
import { RawBody } from "../ingest/raw-body.js";

/**
 * The raw body, or why reading stopped (then `body` is empty): `overLimit`, longer than the
 * limit; `refused`, the process-wide in-flight budget ran out ("busy") or the body did not
 * arrive within the deadline ("timeout").
 */
export interface BodyRead {
  body: RawBody;
  overLimit: boolean;
  refused?: "busy" | "timeout";
}

/** What one body read may take. */
export interface BodyLimits {
  /** The request's own limit (`maxBodyBytes`). */
  maxBytes: number;
  /** Deadline for the whole body. */
  timeoutMs: number;
  /** Take `bytes` from the budget shared by every request in flight; false when it is spent. */
  charge(bytes: number): boolean;
  /** Sees every chunk kept, in order, as it arrives (the provider's body HMACs). */
  onChunk?: (chunk: Uint8Array) => void;
  /** After a chunk of `bytes` was kept: milliseconds to wait before reading on (large bodies are paced). */
  pace?: (bytes: number) => number;
}

const EMPTY = RawBody.EMPTY;
const OVER_LIMIT: BodyRead = { body: EMPTY, overLimit: true };
const BUSY: BodyRead = { body: EMPTY, overLimit: false, refused: "busy" };
const TIMED_OUT: BodyRead = { body: EMPTY, overLimit: false, refused: "timeout" };

/**
 * Read a Web `Request` body chunk by chunk; past `limit` bytes, stop reading and drop what was
 * read, so at most `limit` bytes (plus one chunk) are ever held.
 */
export async function readRequestBody(request: Request, limits: BodyLimits): Promise<BodyRead> {
  if (request.bodyUsed) {
    throw bodyParsedError("the Request body was already read", "pass webhooks.fetch() the untouched Request (c.req.raw in Hono)");
  }
  if (declaredOverLimit(request.headers.get("content-length"), limits.maxBytes)) return OVER_LIMIT;
  if (request.body === null) return { body: EMPTY, overLimit: false };
  const reader = request.body.getReader();
  const chunks = new Chunks(limits.maxBytes);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limits.timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === "timeout") {
        void reader.cancel().catch(() => {});
        return TIMED_OUT;
      }
      const { done, value } = next;
      if (done) return { body: chunks.body(), overLimit: false };
      if (!limits.charge(value.byteLength)) {
        void reader.cancel().catch(() => {});
        return BUSY;
      }
      if (!chunks.add(value)) return OVER_LIMIT;
      limits.onChunk?.(value);
      const wait = limits.pace?.(value.byteLength) ?? 0;
      if (wait > 0 && (await Promise.race([sleep(wait), deadline])) === "timeout") {
        void reader.cancel().catch(() => {});
        return TIMED_OUT;
      }
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/**
 * Read a node:http request body from its stream; past `limit` bytes, drop what was read and
 * pause the stream (the adapter decides what happens to the rest). Rejects when the client
 * goes away before the body ended.
 */
export function readIncomingBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyRead> {
  const parsed = consumedBy(req);
  if (parsed !== null) {
    return Promise.reject(
      bodyParsedError(parsed, "mount webhooks.nodeHandler() before express.json() / any body parser, or exclude the webhook paths from the parser " +
        "(Fastify: serve them from a plugin scope without content-type parsers, see docs/http.md)"),
    );
  }
  if (declaredOverLimit(req.headers["content-length"], limits.maxBytes)) return Promise.resolve(OVER_LIMIT);
  return new Promise((resolve, reject) => {
    const chunks = new Chunks(limits.maxBytes);
    // Listeners stay attached for the request's life (removing four per request is measurable
    // on the hot path); once the promise has settled, later events change nothing.
    let settled = false;
    const expire = () => {
      req.pause();
      settle(() => resolve(TIMED_OUT));
    };
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      pendingReads.delete(expire);
      finish();
    };
    watchDeadline(expire, Date.now() + limits.timeoutMs);
    req
      .on("data", (chunk: Buffer) => {
        if (settled) return;
        if (!limits.charge(chunk.byteLength)) {
          chunks.drop();
          req.pause();
          settle(() => resolve(BUSY));
        } else if (!chunks.add(chunk)) {
          req.pause();
          settle(() => resolve(OVER_LIMIT));
        } else {
          limits.onChunk?.(chunk);
          const wait = limits.pace?.(chunk.byteLength) ?? 0;
          if (wait > 0) {
            req.pause();
            setTimeout(() => settled || req.resume(), wait);
          }
        }
      })
      .on("end", () => settle(() => resolve({ body: chunks.body(), overLimit: false })))
      .on("error", (error: Error) => settle(() => reject(error)))
      .on("close", () => settle(() => reject(new Error("the client closed the connection before the body ended"))));
  });
}

/**
 * Body reads in progress and when each expires. One sweep timer serves them all: a timer per
 * request would cost more than the rest of the deadline bookkeeping on the hot path.
 */
const pendingReads = new Map<() => void, number>();
const SWEEP_MS = 100;
let sweeper: NodeJS.Timeout | null = null;

function watchDeadline(expire: () => void, at: number): void {
  pendingReads.set(expire, at);
  sweeper ??= setInterval(() => {
    const now = Date.now();
    for (const [fn, deadline] of pendingReads) if (deadline <= now) fn();
    if (pendingReads.size === 0 && sweeper !== null) {
      clearInterval(sweeper);
      sweeper = null;
    }
  }, SWEEP_MS).unref();
}

/** Why the stream of `req` can no longer give the raw body, or null when it still can. */
function consumedBy(req: IncomingMessage): string | null {
  const body = (req as { body?: unknown }).body;
  if (body !== undefined) return "a body parser already consumed the request body (req.body is set)";
  if (req.readableDidRead || req.readableEnded) return "the request body stream was already read";
  return null;
}

function bodyParsedError(what: string, fix: string): KnockerError {
  return new KnockerError(
    "ERR_BODY_PARSED",
    `Knocker needs the raw request body to verify signatures, but ${what}: ${fix}. ` +
      "Knocker never verifies a re-serialized body.",
  );
}

/** A declared Content-Length beyond the limit is refused without reading a byte. */
function declaredOverLimit(contentLength: string | null | undefined, limit: number): boolean {
  if (contentLength === null || contentLength === undefined || contentLength === "") return false;
  const length = Number(contentLength);
  return Number.isFinite(length) && length > limit;
}

/** Chunks read so far, refusing to grow past the limit. */
class Chunks {
  readonly #limit: number;
  #list: Uint8Array[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** False (and everything dropped) once the total passes the limit. */
  add(chunk: Uint8Array): boolean {
    this.#size += chunk.byteLength;
    if (this.#size > this.#limit) {
      this.#list = [];
      return false;
    }
    this.#list.push(chunk);
    return true;
  }

  drop(): void {
    this.#list = [];
  }

  body(): RawBody {
    return new RawBody(this.#list, this.#size);
  }
}
