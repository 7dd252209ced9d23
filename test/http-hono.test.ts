// The front door through Hono on @hono/node-server: webhooks.fetch(c.req.raw), a Web Request.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { test } from "node:test";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Knocker, KnockerError } from "../src/index.js";
import { closeServer, httpStatusSuite, stripeEvent, stripeHeaders, suiteInbox } from "./support/http-suite.js";

async function serveHono(app: Hono): Promise<{ url: string; stop(): Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}

function honoApp(webhooks: Knocker): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.text("ok"));
  app.all("/webhooks/*", (c) => webhooks.fetch(c.req.raw));
  return app;
}

httpStatusSuite({ name: "hono", start: (webhooks) => serveHono(honoApp(webhooks)) });

test("hono: webhooks.fetch is bound, so it can be the whole server's fetch", async () => {
  const webhooks = suiteInbox();
  const server = serve({ fetch: webhooks.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const body = stripeEvent("evt_hono_bound");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.equal((await fetch(`${url}/elsewhere`, { method: "POST", body })).status, 404);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("hono: a Request whose body was already read gives ERR_BODY_PARSED", async () => {
  const webhooks = suiteInbox();
  const app = new Hono();
  const errors: unknown[] = [];
  app.onError((error, c) => {
    errors.push(error);
    return c.body(null, 500);
  });
  app.post("/webhooks/*", async (c) => {
    await c.req.json(); // reads the raw Request body
    return webhooks.fetch(c.req.raw);
  });
  const reports: Array<{ status: number; error?: unknown }> = [];
  webhooks.on("http:response", (payload) => reports.push(payload));
  const { url, stop } = await serveHono(app);
  try {
    const body = stripeEvent("evt_hono_parsed");
    const sent = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 500);
    assert.equal((errors[0] as KnockerError).code, "ERR_BODY_PARSED");
    assert.match((errors[0] as KnockerError).message, /pass webhooks\.fetch\(\) the untouched Request/);
    assert.equal((await webhooks.listDeliveries()).length, 0);
    assert.deepEqual(reports.map((r) => [r.status, r.error]), [[500, errors[0]]], "http:response reports the rejection with its error");
  } finally {
    await stop();
    await webhooks.close();
  }
});
