import { randomBytes, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackHost, SECURITY_HEADERS } from "../../dashboard/security.js";
import { engineOf } from "../../store/engine-of.js";
import { parseInteger, Refusal, stringOption, UsageError } from "../args.js";
import type { Command } from "../command.js";

const TOKEN_COOKIE = "knocker_dashboard_token";
const MIN_TOKEN = 16;

/**
 * `knocker dashboard`: the operator dashboard on 127.0.0.1, for whoever has the token. The token
 * (random unless --token) is printed in a URL; opening it once trades it for an HttpOnly,
 * SameSite=Strict cookie and redirects to the same page without it, so it does not stay in the
 * address bar or the history. Scripts may send `Authorization: Bearer <token>` instead.
 */
export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "Serve the operator dashboard on 127.0.0.1 (a random access token is printed at start).",
  usage: "[--port 8788] [--token TOKEN] [--read-only]",
  details:
    "Open the printed URL in a browser: it carries the access token once, then a cookie does. The\n" +
    "server listens on 127.0.0.1 only; from another machine, forward the port (ssh -L 8788:127.0.0.1:8788).\n" +
    "Replays, requeues and ignores enqueue work for the app's worker, as the other commands do\n" +
    "(--queue, --max-attempts). Ctrl+C stops it.\n" +
    "Example: knocker dashboard --db app.db --port 8788",
  options: {
    port: { type: "string", value: "PORT", description: "port on 127.0.0.1 (default 8788; 0 picks a free one)" },
    token: { type: "string", value: "TOKEN", description: `access token, at least ${MIN_TOKEN} characters (default: a random one); other local users can read it in ps` },
    "read-only": { type: "boolean", description: "show everything, change nothing (no action buttons)" },
  },
  positionals: [],
  async run(context) {
    const port = parseInteger(stringOption(context.values, "port") ?? "8788", "port", 0, 65_535);
    const token = stringOption(context.values, "token") ?? randomBytes(24).toString("base64url");
    if (token.length < MIN_TOKEN || /[\s;,]/.test(token)) throw new UsageError(`--token must be at least ${MIN_TOKEN} characters, without spaces, commas or semicolons`);
    const knocker = await context.knocker();
    // One read before listening: an inbox the dashboard cannot read fails here, in one line,
    // rather than on every page.
    await engineOf(knocker).dashboard.endpoints();
    const dashboard = knocker.dashboard({ authorize: (request) => presents(request, token), readOnly: context.values["read-only"] === true });

    const server = createServer((req, res) => {
      serve(req, res, token, dashboard.node).catch(() => {
        if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS).end();
      });
    });
    server.listen(port, "127.0.0.1");
    try {
      await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error))]);
    } catch (error) {
      throw new Refusal(`cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`);
    }
    const { port: bound } = server.address() as AddressInfo;
    context.out(`Knocker dashboard on http://127.0.0.1:${bound}/?token=${token}\nOpen that URL in a browser; Ctrl+C stops the server.\n`);

    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    server.close();
    server.closeAllConnections();
    context.out("Dashboard stopped.\n");
    return 0;
  },
};

async function serve(req: IncomingMessage, res: ServerResponse, token: string, node: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<void> {
  // The token already keeps other sites out; a page that rebinds its name to 127.0.0.1 is refused by name too.
  if (!isLoopbackHost(req.headers.host ?? null)) {
    res.writeHead(421, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" }).end("Misdirected Request\n");
    return;
  }
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const given = url.searchParams.get("token");
  if (given !== null && req.method === "GET") {
    if (!same(given, token)) {
      res.writeHead(401, { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" }).end("Unauthorized\n");
      return;
    }
    url.searchParams.delete("token");
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: `${url.pathname}${url.search}`,
      "set-cookie": `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
      "cache-control": "no-store",
    }).end();
    return;
  }
  await node(req, res);
}

/** The token as the cookie set above, or as `Authorization: Bearer <token>`. */
function presents(request: Request, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer !== undefined && same(bearer, token)) return true;
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === TOKEN_COOKIE && same(part.slice(at + 1).trim(), token)) return true;
  }
  return false;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
