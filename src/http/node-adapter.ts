import type { IncomingMessage, ServerResponse } from "node:http";
import { KnockerError } from "../errors.js";
import type { NodeHandler, NodeHandlerOptions } from "../interfaces.js";
import type { FrontDoor, HttpAnswer } from "./front-door.js";
import { readIncomingBody } from "./read-body.js";

/** An unwanted body (404, 405, 413) up to this size is drained so the connection stays reusable. */
const DRAIN_MAX_BYTES = 1024 * 1024;
/** How long a client still sending an unwanted larger body has to read the answer. */
const CLOSE_GRACE_MS = 2000;
/**
 * Connections given that grace at once. Each holds the body bytes Node read with its headers
 * (up to 64 KiB); past this many (a flood of refused uploads) a connection is closed as soon as
 * its answer is flushed, which may reset it before the client reads the answer, so those bytes
 * are given back at once. Measured with 1,000 held 4 MiB uploads: RSS growth ~115 MiB with a
 * grace for all, ~85 MiB with this cap.
 */
const MAX_GRACEFUL_CLOSES = 64;
let gracefulCloses = 0;

/**
 * `webhooks.nodeHandler()`: `(req, res, next?)` for node:http, Express and Fastify (a route with
 * `reply.hijack()` in a scope whose only content-type parser leaves the stream alone, called with
 * `request.raw, reply.raw`; see docs/http.md). The raw body is read from the request stream, so it
 * must run before any body parser. Paths that are not endpoints go to `next()` when there is one,
 * else 404.
 *
 * Express keeps the full path in `req.originalUrl` (a mount path does not change what matches);
 * `prefix` is removed from the path before the endpoint lookup.
 */
export function createNodeHandler(door: FrontDoor, options: NodeHandlerOptions = {}): NodeHandler {
  if (options === null || typeof options !== "object") throw new TypeError("nodeHandler() takes an options object");
  const prefix = checkPrefix(options.prefix);
  return async (req, res, next) => {
    const { path, search } = splitTarget((req as { originalUrl?: string }).originalUrl ?? req.url ?? "/");
    const endpointPath = withoutPrefix(path, prefix);
    if (next && !door.serves(endpointPath)) {
      next();
      return;
    }
    try {
      const answer = await door.answer({
        method: req.method ?? "GET",
        path,
        search,
        endpointPath,
        headers: req.headers,
        headerMap: req.headers as Record<string, string | string[]>, // node:http lower-cases names already
        readBody: (limits) => readIncomingBody(req, limits),
      });
      if (!req.complete) leaveUnreadBody(req, res, answer.headers.connection === "close");
      send(res, answer);
    } catch (error) {
      // ERR_BODY_PARSED: a body parser ran first (already reported on http:response as a 500).
      // Fail loudly: to Express's error handling when there is a `next`, else a bare 500 and a
      // rejected promise (in Fastify, a hijacked route's rejection goes to its log).
      if (next) {
        next(error);
        return;
      }
      send(res, { status: 500, headers: {}, body: null });
      throw error;
    }
  };
}

function send(res: ServerResponse, { status, headers, body }: HttpAnswer): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === null) {
    res.end();
  } else {
    res.setHeader("content-length", Buffer.byteLength(body));
    res.end(body);
  }
}

/**
 * The answer goes out before the body ended (404, 405, 413). A small rest is drained by Node as
 * usual and the connection stays reusable. A large or unknown rest is never read, so memory
 * stays flat whatever a client uploads: the answer says `Connection: close`, and instead of
 * Node's immediate destroy once it is flushed — which resets the connection under a client still
 * uploading, often before it reads the answer — the socket is half-closed and destroyed after a
 * grace period.
 */
function leaveUnreadBody(req: IncomingMessage, res: ServerResponse, close: boolean): void {
  // HTTP/1.1: a chunked body has no known length; no Content-Length and no chunking means no body.
  const rest = req.headers["transfer-encoding"] !== undefined ? Number.POSITIVE_INFINITY : Number(req.headers["content-length"] ?? 0);
  // A body that timed out or found the budget spent is never drained, however small it says it is.
  if (rest <= DRAIN_MAX_BYTES && !close) return;
  req.pause();
  res.setHeader("connection", "close");
  const socket = req.socket;
  socket.destroySoon = () => {
    req.pause(); // Node resumes an unread request to drain it; stop that
    if (gracefulCloses >= MAX_GRACEFUL_CLOSES) {
      socket.destroy();
      return;
    }
    gracefulCloses++;
    socket.end();
    setTimeout(() => {
      gracefulCloses--;
      socket.destroy();
    }, CLOSE_GRACE_MS).unref();
  };
}

/** A path that the WHATWG URL parser leaves exactly as it is (no dots, escapes or "//"). */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_~\/-]*$/;

/**
 * Path and query string of a request target, as `new URL(target, base)` would give them. The
 * common case (a plain path) skips building a URL: this runs for every request.
 */
function splitTarget(target: string): { path: string; search: string } {
  const at = target.indexOf("?");
  const path = at === -1 ? target : target.slice(0, at);
  if (PLAIN_PATH.test(path) && !target.includes("#")) {
    const search = at === -1 || at === target.length - 1 ? "" : target.slice(at);
    return { path, search };
  }
  const url = new URL(target, "http://localhost");
  return { path: url.pathname, search: url.search };
}

function checkPrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === "" || prefix === "/") return "";
  if (typeof prefix !== "string" || !prefix.startsWith("/")) {
    throw new KnockerError("ERR_INVALID_ARGUMENT", `nodeHandler() option "prefix" must be a path starting with "/", got ${JSON.stringify(prefix)}`);
  }
  return prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}

/** The path below `prefix`, or null when the path is outside it. */
function withoutPrefix(path: string, prefix: string): string | null {
  if (prefix === "") return path;
  if (path === prefix) return "/";
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : null;
}
