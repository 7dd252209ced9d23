// examples/: the Express app, the Hono app and the Next.js route handler, each driven the way
// it runs for real (loopback HTTP, or a Web Request into the route's exports).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import Stripe from "stripe";
import { createApp as createExpressApp } from "../examples/express-app.js";
import { createApp as createFastifyApp } from "../examples/fastify-app.js";
import { createApp as createHonoApp } from "../examples/hono-app.js";
import { drain, tempDbPath, tempDir } from "./support.js";
import { closeServer, listen } from "./support/http-suite.js";

const stripe = new Stripe("sk_test_examples");

/** The rows of `sql` in the file at `path`, read on a connection of the test's own (the app's tables). */
function rows(path: string, sql: string, pluck = false): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    const statement = db.prepare(sql);
    return pluck ? statement.pluck().all() : statement.all();
  } finally {
    db.close();
  }
}

function checkout(id: string) {
  return JSON.stringify({ id, object: "event", type: "checkout.session.completed", data: { object: { id: `cs_${id}` } } });
}

test("examples/express-app.ts: a signed Stripe checkout is stored, handled into paid_orders; the app's own routes still work", async () => {
  const path = tempDbPath();
  const { app, webhooks } = createExpressApp(path, "whsec_express_example");
  const server = createServer(app);
  const url = await listen(server);
  try {
    const body = checkout("evt_express_example");
    const headers = { "content-type": "application/json", "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: body, secret: "whsec_express_example" }) };
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers })).status, 204);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { ok: true });
    await drain(webhooks, async () => (await webhooks.listEvents({ status: "handled" })).length === 1);
    assert.deepEqual(rows(path, "SELECT session_id FROM paid_orders", true), ["cs_evt_express_example"]);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("examples/fastify-app.ts: a signed Stripe checkout is stored raw and handled into paid_orders; a forgery is 401; /health still works", async () => {
  const path = tempDbPath();
  const { app, webhooks } = createFastifyApp(path, "whsec_fastify_example");
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const body = checkout("evt_fastify_example");
    const headers = { "content-type": "application/json", "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: body, secret: "whsec_fastify_example" }) };
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers })).status, 204);
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body: `${body} `, headers })).status, 401);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { ok: true });
    await drain(webhooks, async () => (await webhooks.listEvents({ status: "handled" })).length === 1);
    assert.deepEqual(rows(path, "SELECT session_id FROM paid_orders", true), ["cs_evt_fastify_example"]);
    assert.equal((await webhooks.listEvents())[0]?.body.toString(), body, "the bytes Stripe signed, not a re-serialization");
  } finally {
    app.server.closeAllConnections();
    await app.close();
    await webhooks.close();
  }
});

test("examples/hono-app.ts: a GitHub push signed by @octokit/webhooks-methods is stored and handled into pushes", async () => {
  const path = tempDbPath();
  const { app, webhooks } = createHonoApp(path, "hono-example-secret");
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const body = JSON.stringify({ ref: "refs/heads/main", after: "6dcb09b5" });
    const headers = {
      "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "hono-example-1",
      "x-hub-signature-256": await githubSign("hono-example-secret", body),
    };
    assert.equal((await fetch(`${url}/webhooks/github`, { method: "POST", body, headers })).status, 204);
    assert.equal((await fetch(`${url}/webhooks/github`, { method: "POST", body, headers: { ...headers, "x-hub-signature-256": "sha256=00" } })).status, 401);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { ok: true });
    await drain(webhooks, async () => (await webhooks.listEvents({ status: "handled" })).length === 1);
    assert.deepEqual(rows(path, "SELECT ref, sha FROM pushes"), [{ ref: "refs/heads/main", sha: "6dcb09b5" }]);
  } finally {
    await closeServer(server as never);
    await webhooks.close();
  }
});

test("examples/nextjs route.ts: its POST and GET exports answer real Requests (Stripe 204/401, Meta handshake 200/403, 404, 405)", async () => {
  const dbPath = join(tempDir(), "next.db");
  Object.assign(process.env, {
    KNOCKER_DB: dbPath, STRIPE_WEBHOOK_SECRET: "whsec_next_example", META_APP_SECRET: "meta-app-secret", META_VERIFY_TOKEN: "next-verify-token",
  });
  const route = await import("../examples/nextjs/app/api/webhooks/[...path]/route.js");
  assert.equal(route.runtime, "nodejs");
  const base = "http://localhost:3000/api/webhooks";

  const body = checkout("evt_next_example");
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: "whsec_next_example" });
  const post = (path: string, sig = signature) =>
    route.POST(new Request(`${base}/${path}`, { method: "POST", body, headers: { "content-type": "application/json", "stripe-signature": sig } }));
  assert.equal((await post("stripe")).status, 204);
  assert.equal((await post("stripe", signature.replace(/v1=(\w)/, (_, first: string) => `v1=${first === "0" ? "1" : "0"}`))).status, 401);
  assert.equal((await post("nope")).status, 404);

  const handshake = await route.GET(new Request(`${base}/meta?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=next-verify-token`));
  assert.equal(handshake.status, 200);
  assert.equal(await handshake.text(), "8675309");
  assert.equal((await route.GET(new Request(`${base}/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess`))).status, 403);
  assert.equal((await route.GET(new Request(`${base}/stripe`))).status, 405);

  const Database = (await import("better-sqlite3")).default;
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.deepEqual(db.prepare("SELECT provider_event_id, signature_valid FROM knocker_deliveries WHERE endpoint_id = 1 ORDER BY id").all(), [
      { provider_event_id: "evt_next_example", signature_valid: 1 },
      { provider_event_id: null, signature_valid: 0 }, // a refused body is never parsed
    ]);
  } finally {
    db.close();
  }
});

test("examples run as programs: `tsx examples/{express,fastify,hono}-app.ts` serve until SIGINT", async () => {
  for (const file of ["express-app.ts", "fastify-app.ts", "hono-app.ts"]) {
    const child = spawn(process.execPath, ["--import", "tsx", new URL(`../examples/${file}`, import.meta.url).pathname], {
      env: { ...process.env, PORT: "0", KNOCKER_DB: join(tempDir(), "example.db") },
    });
    let out = "";
    child.stdout.on("data", (data: Buffer) => (out += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const deadline = Date.now() + 20_000;
    while (!/listening on (\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = out.match(/listening on (\S+)/)?.[1] ?? assert.fail(`${file} did not start: ${out}`);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { ok: true }, file);
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "PUT" })).status, file === "hono-app.ts" ? 404 : 405, file);
    child.kill("SIGINT");
    assert.equal(await exited, 0, file);
  }
});
