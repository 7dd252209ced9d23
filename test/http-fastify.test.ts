// The front door through Fastify: webhook routes in their own plugin scope whose only content-type
// parser leaves the raw stream alone; the reply is hijacked and nodeHandler() answers on the raw
// Node objects (examples/fastify-app.ts, docs/http.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { open, type Knocker, type KnockerError } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { httpStatusSuite, stripeEvent, stripeHeaders, suiteInbox } from "./support/http-suite.js";

/** The mounting of examples/fastify-app.ts, for any inbox; optionally under a Fastify prefix. */
function fastifyApp(webhooks: Knocker, prefix?: string): FastifyInstance {
  const app = Fastify();
  const knocker = webhooks.nodeHandler(prefix === undefined ? {} : { prefix });
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.all("/webhooks/*", (request, reply) => {
      reply.hijack();
      return knocker(request.raw, reply.raw);
    });
  }, prefix === undefined ? {} : { prefix });
  return app;
}

async function serve(app: FastifyInstance): Promise<{ url: string; stop(): Promise<void> }> {
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    async stop() {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

httpStatusSuite({ name: "fastify", start: (webhooks) => serve(fastifyApp(webhooks)) });

test("fastify: the app's other routes keep Fastify's own JSON parser", async () => {
  const webhooks = suiteInbox();
  const app = fastifyApp(webhooks);
  app.post("/api/echo", async (request) => ({ got: request.body }));
  const { url, stop } = await serve(app);
  try {
    const echoed = await fetch(`${url}/api/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    assert.deepEqual(await echoed.json(), { got: { a: 1 } });
    const body = stripeEvent("evt_fastify_mixed");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.equal((await webhooks.listEvents({ endpoint: "stripe" }))[0]?.body.toString(), body, "the raw bytes were stored");
  } finally {
    await stop();
    await webhooks.close();
  }
});

test("fastify: under a Fastify prefix, nodeHandler({ prefix }) with the same prefix finds the endpoints", async () => {
  const webhooks = suiteInbox();
  const { url, stop } = await serve(fastifyApp(webhooks, "/hooks"));
  try {
    const body = stripeEvent("evt_fastify_prefix");
    assert.equal((await fetch(`${url}/hooks/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 404, "Fastify's own 404");
    assert.equal((await webhooks.listDeliveries()).length, 1);
  } finally {
    await stop();
    await webhooks.close();
  }
});

test("fastify: any Content-Type reaches Knocker untouched; a malformed one is Fastify's 415, before Knocker", async () => {
  const webhooks = suiteInbox();
  const { url, stop } = await serve(fastifyApp(webhooks));
  try {
    const body = stripeEvent("evt_fastify_types");
    for (const type of ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/vnd.custom+json"]) {
      assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: { ...stripeHeaders(body), "content-type": type } })).status, 204, type);
    }
    const noType = new Headers(stripeHeaders(body));
    noType.delete("content-type");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body: Buffer.from(body), headers: noType })).status, 204, "no Content-Type");
    const before = (await webhooks.listDeliveries()).length;
    const malformed = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: { ...stripeHeaders(body), "content-type": "json" } });
    assert.equal(malformed.status, 415);
    assert.equal((await webhooks.listDeliveries()).length, before, "Knocker never saw it");
  } finally {
    await stop();
    await webhooks.close();
  }
});

test("fastify: Knocker's maxBodyBytes applies, not Fastify's bodyLimit (1 MiB): 2 MiB is stored, 5 MiB is a 413 orphan", async () => {
  const webhooks = open(tempDbPath(), { maxBodyBytes: 4 * 1024 * 1024 });
  webhooks.endpoint("orders", { path: "/webhooks/orders" }); // no provider: trusted ingress
  const { url, stop } = await serve(fastifyApp(webhooks));
  try {
    const stored = await fetch(`${url}/webhooks/orders`, { method: "POST", body: Buffer.alloc(2 * 1024 * 1024, "a"), headers: { "content-type": "application/octet-stream" } });
    assert.equal(stored.status, 204);
    const big = await fetch(`${url}/webhooks/orders`, { method: "POST", body: Buffer.alloc(5 * 1024 * 1024), headers: { "content-type": "application/json" } });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get("connection"), "close", "the unread rest is not drained");
    const [orphan, event] = await webhooks.listDeliveries({ endpoint: "orders" });
    assert.equal(orphan?.body.length, 0);
    assert.match(orphan?.signatureError ?? "", /exceeds maxBodyBytes \(4194304 bytes\)/);
    assert.equal(event?.body.length, 2 * 1024 * 1024);
  } finally {
    await stop();
    await webhooks.close();
  }
});

test("fastify: a route left with Fastify's JSON parser gives ERR_BODY_PARSED: a bare 500, the error in Fastify's log and in http:response", async () => {
  const webhooks = suiteInbox();
  const logged: Array<{ msg?: string; err?: { code?: string; message?: string } }> = [];
  const app = Fastify({ logger: { level: "error", stream: { write: (line: string) => void logged.push(JSON.parse(line)) } } });
  const knocker = webhooks.nodeHandler();
  app.post("/webhooks/stripe", (request, reply) => { // the mistake: no parser-free scope
    reply.hijack();
    return knocker(request.raw, reply.raw);
  });
  const reports: Array<{ status: number; error?: unknown }> = [];
  webhooks.on("http:response", (payload) => reports.push(payload));
  const { url, stop } = await serve(app);
  try {
    const body = stripeEvent("evt_fastify_parsed");
    const sent = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 500);
    assert.equal(await sent.text(), "", "no internal detail in the answer");
    assert.equal((await webhooks.listDeliveries()).length, 0, "a body Fastify parsed is never verified");

    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.status, 500);
    const error = reports[0]?.error as KnockerError;
    assert.equal(error.code, "ERR_BODY_PARSED");
    assert.match(error.message, /the request body stream was already read/);

    const deadline = Date.now() + 2000;
    while (logged.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(logged[0]?.err?.code, "ERR_BODY_PARSED", "Fastify logs the rejected handler");
  } finally {
    await stop();
    await webhooks.close();
  }
});
