// The front door through node:http: webhooks.nodeHandler() as the whole request listener.
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import { describe, test } from "node:test";
import { KnockerError, open } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { engineMatrix } from "./support/engines.js";
import { closeServer, httpStatusSuite, LIMIT, listen, stripeEvent, stripeHeaders, suiteInbox } from "./support/http-suite.js";

// The status matrix on every engine; the other flavours (Express, Hono, Fastify) run it on SQLite.
for (const engine of engineMatrix()) {
  describe(engine.name, () =>
    httpStatusSuite({
      name: `node:http (${engine.name})`,
      engine,
      async start(webhooks) {
        const server = createServer(webhooks.nodeHandler());
        return { url: await listen(server), stop: () => closeServer(server) };
      },
    }));
}

/** Right shape, fresh timestamp, wrong digest: passes the header checks, so the body is read. */
const forgedStripeSignature = () => `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`;

test("node:http: prefix mounts the endpoints under a path; other paths answer 404 without a next()", async () => {
  const webhooks = suiteInbox();
  const server = createServer(webhooks.nodeHandler({ prefix: "/hooks/" }));
  const url = await listen(server);
  try {
    const body = stripeEvent("evt_prefix");
    assert.equal((await fetch(`${url}/hooks/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 404);
    assert.equal((await fetch(`${url}/hooksx/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 404);
    assert.equal((await webhooks.listDeliveries()).length, 1);
    assert.throws(() => webhooks.nodeHandler({ prefix: "hooks" }), (e) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT");
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("node:http: http:response reports each answer; a closed Knocker answers 503, never 2xx", async () => {
  const webhooks = open(tempDbPath(), {});
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_http_suite"] });
  const reports: unknown[] = [];
  webhooks.on("http:response", (payload) => reports.push({ ...payload, durationMs: typeof payload.durationMs }));
  const server = createServer(webhooks.nodeHandler());
  const url = await listen(server);
  try {
    const body = stripeEvent("evt_report");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.deepEqual(reports, [{
      method: "POST", path: "/webhooks/stripe", endpoint: "stripe", status: 204, deliveryId: 1, eventId: 1, duplicate: false, durationMs: "number",
    }]);
    await webhooks.close();
    const late = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
    assert.equal(late.status, 503);
    assert.equal(late.headers.get("retry-after"), "5");
    assert.equal(await late.text(), "");
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("node:http: a client that hangs up mid-body gets nothing stored", async () => {
  const webhooks = suiteInbox();
  const answered = new Promise<number>((resolve) => webhooks.on("http:response", ({ status }) => resolve(status)));
  const server = createServer(webhooks.nodeHandler());
  const url = new URL(await listen(server));
  try {
    const req = httpRequest({ host: url.hostname, port: url.port, path: "/webhooks/stripe", method: "POST", headers: { "content-length": "1000", "stripe-signature": forgedStripeSignature() } });
    req.on("error", () => {});
    req.write("{\"id\":\"evt_cut");
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    assert.equal(await answered, 400);
    assert.equal((await webhooks.listDeliveries()).length, 0);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("node:http: a listener that read the body first gets ERR_BODY_PARSED (the request answers a bare 500, http:response reports it)", async () => {
  const webhooks = suiteInbox();
  const handler = webhooks.nodeHandler();
  const failures: unknown[] = [];
  const reports: Array<{ status: number; endpoint: string | null; deliveryId: number | null; error?: unknown }> = [];
  webhooks.on("http:response", (payload) => reports.push(payload));
  const server = createServer(async (req, res) => {
    for await (const _chunk of req); // consumes the stream: the raw body is gone
    await handler(req, res).catch((error: unknown) => failures.push(error));
  });
  const url = await listen(server);
  try {
    const body = stripeEvent("evt_consumed");
    const sent = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 500);
    assert.equal(await sent.text(), "");
    assert.equal(failures.length, 1);
    const error = failures[0] as KnockerError;
    assert.equal(error.code, "ERR_BODY_PARSED");
    assert.match(error.message, /before express\.json\(\)/);
    assert.equal((await webhooks.listDeliveries()).length, 0, "a body Knocker did not read itself is never verified");
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.status, 500);
    assert.equal(reports[0]?.endpoint, "stripe");
    assert.equal(reports[0]?.deliveryId, null);
    assert.equal(reports[0]?.error, error, "the report carries the very error the handler rejected with");
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("node:http: after a refusal the connection is reused when the unread rest is small, and closed when it is large", async () => {
  const webhooks = suiteInbox();
  const sockets = new Set<unknown>();
  const server = createServer(webhooks.nodeHandler());
  server.on("connection", (socket) => sockets.add(socket));
  const url = new URL(await listen(server));
  const post = (path: string, body: Buffer | string, method = "POST") =>
    new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, method, agent, headers: { "content-length": String(Buffer.byteLength(body)), "stripe-signature": forgedStripeSignature() } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await post("/webhooks/stripe", "", "GET")).status, 405);
    assert.equal((await post("/webhooks/stripe", "{}", "PUT")).status, 405);
    assert.equal((await post("/webhooks/nope", Buffer.alloc(200 * 1024))).status, 404);
    assert.deepEqual(await post("/webhooks/stripe", Buffer.alloc(LIMIT + 1)), { status: 413, connection: "keep-alive" });
    assert.equal(sockets.size, 1, "small unwanted bodies are drained: one keep-alive connection served them all");
    assert.deepEqual(await post("/webhooks/stripe", Buffer.alloc(3 * 1024 * 1024)), { status: 413, connection: "close" });
    assert.equal((await post("/webhooks/stripe", "{}")).status, 401, "the next request still works");
    assert.equal(sockets.size, 2, "a large unwanted body is not read: its connection was closed");
  } finally {
    agent.destroy();
    await closeServer(server);
    await webhooks.close();
  }
});

test("node:http: request targets route and carry their query exactly as the WHATWG URL parser reads them", async () => {
  const webhooks = open(tempDbPath(), {});
  webhooks.endpoint("plain", { path: "/hooks/plain" });
  const server = createServer(webhooks.nodeHandler());
  const url = new URL(await listen(server));
  const send = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.end("{}");
    });
  const targets = [
    "/hooks/plain", "/hooks/plain?", "/hooks/plain?a=1&a=2&b=%20x+y&c", "/hooks/plain#frag", "/hooks/plain?q=1#frag",
    "/hooks/./plain", "/hooks/x/../plain", "/hooks/%70lain", "//hooks/plain", "/hooks/plain/", "/Hooks/plain", "/hooks/pl%C3%A4in?x=%C3%A4",
  ];
  try {
    for (const target of targets) {
      const parsed = new URL(target, "http://localhost");
      const served = parsed.pathname === "/hooks/plain";
      const before = (await webhooks.listDeliveries()).length;
      assert.equal(await send(target), served ? 204 : 404, target);
      const deliveries = await webhooks.listDeliveries();
      assert.equal(deliveries.length, before + (served ? 1 : 0), target);
      if (!served) continue;
      const expected: Record<string, string | string[]> = {};
      for (const name of new Set(parsed.searchParams.keys())) {
        const values = parsed.searchParams.getAll(name);
        expected[name] = values.length === 1 ? values[0]! : values;
      }
      assert.deepEqual(deliveries[0]!.query, expected, target);
    }
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});
