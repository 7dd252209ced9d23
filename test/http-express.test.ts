// The front door through Express: app.use(webhooks.nodeHandler()) before any body parser.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import express, { type ErrorRequestHandler } from "express";
import type { KnockerError } from "../src/index.js";
import { closeServer, httpStatusSuite, listen, stripeEvent, stripeHeaders, suiteInbox } from "./support/http-suite.js";

httpStatusSuite({
  name: "express",
  async start(webhooks) {
    const app = express();
    app.use(webhooks.nodeHandler());
    app.use(express.json());
    const server = createServer(app);
    return { url: await listen(server), stop: () => closeServer(server) };
  },
});

test("express: paths that are not endpoints go on to the app's own routes and parsers", async () => {
  const webhooks = suiteInbox();
  const app = express();
  app.use(webhooks.nodeHandler());
  app.use(express.json());
  app.post("/api/echo", (req, res) => { res.json({ got: req.body }); });
  const server = createServer(app);
  const url = await listen(server);
  try {
    const echoed = await fetch(`${url}/api/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    assert.deepEqual(await echoed.json(), { got: { a: 1 } });
    const body = stripeEvent("evt_express_mixed");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
    assert.equal((await webhooks.listDeliveries()).length, 1);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("express: mounted under a path, endpoints still match the full path (req.originalUrl)", async () => {
  const webhooks = suiteInbox();
  const app = express();
  app.use("/webhooks", webhooks.nodeHandler());
  const server = createServer(app);
  const url = await listen(server);
  try {
    const body = stripeEvent("evt_express_mounted");
    assert.equal((await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) })).status, 204);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("express: express.json() mounted first gives ERR_BODY_PARSED, telling to mount Knocker before the parser", async () => {
  const webhooks = suiteInbox();
  const reports: Array<{ status: number; path: string; error?: unknown }> = [];
  webhooks.on("http:response", (payload) => reports.push(payload));
  const app = express();
  app.use(express.json());
  app.use(webhooks.nodeHandler());
  const errors: unknown[] = [];
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    errors.push(error);
    res.status(500).end();
  };
  app.use(onError);
  const server = createServer(app);
  const url = await listen(server);
  try {
    const body = stripeEvent("evt_parsed_first");
    const sent = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 500);
    assert.equal(errors.length, 1);
    const error = errors[0] as KnockerError;
    assert.equal(error.name, "KnockerError");
    assert.equal(error.code, "ERR_BODY_PARSED");
    assert.match(error.message, /a body parser already consumed the request body \(req\.body is set\)/);
    assert.match(error.message, /mount webhooks\.nodeHandler\(\) before express\.json\(\)/);
    assert.match(error.message, /never verifies a re-serialized body/);
    assert.equal((await webhooks.listDeliveries()).length, 0, "the re-serialized body was not verified nor stored");
    assert.equal(reports.length, 1, "http:response reports the failure too");
    assert.equal(reports[0]?.status, 500);
    assert.equal(reports[0]?.path, "/webhooks/stripe");
    assert.equal(reports[0]?.error, error, "the report carries the error passed to next()");

    // A parser that does not match the content type leaves the stream alone: Knocker still works.
    const text = "not json at all";
    const forged = { "content-type": "text/plain", "x-hub-signature-256": `sha256=${"0".repeat(64)}` }; // read, then refused
    const plain = await fetch(`${url}/webhooks/github`, { method: "POST", body: text, headers: forged });
    assert.equal(plain.status, 401);
    assert.equal((await webhooks.getDelivery(1))?.body.toString(), text);
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
});

test("express: with no error handler of yours, Express's default one sends the stack outside production and a bare 500 in it", async () => {
  for (const env of ["development", "production"]) {
    const webhooks = suiteInbox();
    const app = express();
    app.set("env", env); // what NODE_ENV sets when the app is created (unset means "development")
    app.use(express.json());
    app.use(webhooks.nodeHandler());
    const server = createServer(app);
    const url = await listen(server);
    const logged: unknown[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(...args); // Express logs the error unless env is "test"
    try {
      const body = stripeEvent(`evt_default_handler_${env}`);
      const sent = await fetch(`${url}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
      assert.equal(sent.status, 500, env);
      const deadline = Date.now() + 2000;
      while (logged.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((logged[0] as KnockerError | undefined)?.code, "ERR_BODY_PARSED", `${env}: the error is logged to stderr`);
      const page = await sent.text();
      if (env === "production") {
        assert.match(page, /<pre>Internal Server Error<\/pre>/);
        assert.doesNotMatch(page, /Knocker|ERR_BODY_PARSED|node_modules|src\//, "nothing internal in production");
      } else {
        assert.match(page, /KnockerError: Knocker needs the raw request body/, "the developer sees the error and how to fix the mounting");
        assert.match(page, /mount webhooks\.nodeHandler\(\) before express\.json\(\)/);
        assert.match(page, /at /, "with its stack trace");
      }
    } finally {
      console.error = consoleError;
      await closeServer(server);
      await webhooks.close();
    }
  }
});
