import type { IncomingMessage } from "node:http";
import { KnockerError } from "../errors.js";

/** The raw body, or `overLimit` when it is longer than the limit (then `body` is empty). */
export interface BodyRead {
  body: Buffer;
  overLimit: boolean;
}

const EMPTY = Buffer.alloc(0);
const OVER_LIMIT: BodyRead = { body: EMPTY, overLimit: true };

/**
 * Read a Web `Request` body chunk by chunk; past `limit` bytes, stop reading and drop what was
 * read, so at most `limit` bytes (plus one chunk) are ever held.
 */
export async function readRequestBody(request: Request, limit: number): Promise<BodyRead> {
  if (request.bodyUsed) {
    throw bodyParsedError("the Request body was already read", "pass webhooks.fetch() the untouched Request (c.req.raw in Hono)");
  }
  if (declaredOverLimit(request.headers.get("content-length"), limit)) return OVER_LIMIT;
  if (request.body === null) return { body: EMPTY, overLimit: false };
  const reader = request.body.getReader();
  const chunks = new Chunks(limit);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { body: chunks.body(), overLimit: false };
      if (!chunks.add(value)) return OVER_LIMIT;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Read a node:http request body from its stream; past `limit` bytes, drop what was read and
 * pause the stream (the adapter decides what happens to the rest). Rejects when the client
 * goes away before the body ended.
 */
export function readIncomingBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const parsed = consumedBy(req);
  if (parsed !== null) {
    return Promise.reject(
      bodyParsedError(parsed, "mount webhooks.nodeHandler() before express.json() / any body parser, or exclude the webhook paths from the parser " +
        "(Fastify: serve them from a plugin scope without content-type parsers, see docs/http.md)"),
    );
  }
  if (declaredOverLimit(req.headers["content-length"], limit)) return Promise.resolve(OVER_LIMIT);
  return new Promise((resolve, reject) => {
    const chunks = new Chunks(limit);
    // Listeners stay attached for the request's life (removing four per request is measurable
    // on the hot path); once the promise has settled, later events change nothing.
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      finish();
    };
    req
      .on("data", (chunk: Buffer) => {
        if (settled || chunks.add(chunk)) return;
        req.pause();
        settle(() => resolve(OVER_LIMIT));
      })
      .on("end", () => settle(() => resolve({ body: chunks.body(), overLimit: false })))
      .on("error", (error: Error) => settle(() => reject(error)))
      .on("close", () => settle(() => reject(new Error("the client closed the connection before the body ended"))));
  });
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

  body(): Buffer {
    const only = this.#list.length === 1 ? this.#list[0]! : null;
    if (only !== null) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
    return Buffer.concat(this.#list, this.#size);
  }
}
