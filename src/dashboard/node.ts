// `dashboard.node`: the dashboard for node:http, Express and other Connect-style stacks. It turns
// the IncomingMessage into a Request (Express's originalUrl, so a mount path does not change what
// matches: give the dashboard that path as its basePath) and hands the socket's peer address on,
// which is what `authorize: "local-only"` decides by. Paths outside basePath go to `next()` when
// there is one, else 404.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardPeer, NodeHandler } from "../interfaces.js";

/** Form posts are small; a larger body is not read (the handler refuses it). */
const MAX_BODY_BYTES = 64 * 1024;

type Handle = (request: Request, peer?: DashboardPeer) => Promise<Response>;

export function createDashboardNodeHandler(handle: Handle, base: string): NodeHandler {
  return async (req, res, next) => {
    const target = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
    const path = target.split("?")[0]!;
    if (next && !(path.startsWith(base) || `${path}/` === base)) {
      next();
      return;
    }
    try {
      const response = await handle(await toRequest(req, target), { remoteAddress: req.socket.remoteAddress });
      await send(res, response);
    } catch (error) {
      if (next) {
        next(error);
        return;
      }
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
      throw error;
    }
  };
}

async function toRequest(req: IncomingMessage, target: string): Promise<Request> {
  const host = req.headers.host ?? "localhost";
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = req.method ?? "GET";
  let body: Buffer | undefined;
  if (method !== "GET" && method !== "HEAD") body = await readLimited(req);
  return new Request(new URL(target, `${secure ? "https" : "http"}://${host}`), { method, headers, body: body === undefined ? undefined : new Uint8Array(body) });
}

/** At most MAX_BODY_BYTES (one byte more tells the handler it was too large); the rest is left unread. */
function readLimited(req: IncomingMessage): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(alreadyParsed(req));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      req.off("data", onData);
      req.off("end", finish);
      req.off("error", reject);
      resolve(Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES + 1));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        finish();
      }
    };
    req.on("data", onData);
    req.once("end", finish);
    req.once("error", reject);
  });
}

/**
 * A body parser mounted before the dashboard (express.urlencoded()) read the stream already:
 * the form is taken from what it left in `req.body`.
 */
function alreadyParsed(req: IncomingMessage): Buffer {
  const body = (req as { body?: unknown }).body;
  if (typeof body === "string" || Buffer.isBuffer(body)) return Buffer.from(body);
  if (body !== null && typeof body === "object") {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(body)) if (typeof value === "string") form.append(name, value);
    return Buffer.from(form.toString());
  }
  return Buffer.alloc(0);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  const body = response.body === null ? null : Buffer.from(await response.arrayBuffer());
  if (body !== null) res.setHeader("content-length", body.length);
  res.end(body ?? undefined);
}
