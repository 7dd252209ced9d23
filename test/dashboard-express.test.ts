// dashboard.node in an Express app, mounted under a path beside the webhook routes: Express's
// originalUrl is matched against basePath, other paths go on to the next middleware, and a form
// action works also when a body parser ran first (the form is taken from req.body).
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import express from "express";
import { open } from "../src/index.js";
import { tempDbPath } from "./support.js";

for (const parser of [false, true]) {
  test(`Express, mounted at /ops/knocker${parser ? ", after express.urlencoded()" : ""}`, async () => {
    const webhooks = open(tempDbPath());
    webhooks.endpoint("orders", { path: "/webhooks/orders" });
    const dashboard = webhooks.dashboard({ basePath: "/ops/knocker", authorize: "local-only" });
    const app = express();
    if (parser) app.use(express.urlencoded({ extended: false }));
    app.use("/ops/knocker", dashboard.node);
    app.get("/health", (_req, res) => void res.send("ok"));
    app.use(webhooks.nodeHandler());
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal((await fetch(`${url}/webhooks/orders`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status, 204);
      assert.equal(await (await fetch(`${url}/health`)).text(), "ok");
      assert.equal((await fetch(`${url}/ops/knocker`, { redirect: "manual" })).headers.get("location"), "/ops/knocker/");
      const [event] = await webhooks.listEvents();
      await webhooks.ignore(event!.id);
      const page = await fetch(`${url}/ops/knocker/events/${event!.id}`);
      assert.equal(page.status, 200);
      const cookie = page.headers.getSetCookie()[0]!.split(";")[0]!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const action = await fetch(`${url}/ops/knocker/events/${event!.id}/requeue`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf }).toString(),
      });
      assert.equal(action.status, 303);
      assert.equal(action.headers.get("location"), `/ops/knocker/events/${event!.id}?done=requeue`);
      assert.equal((await webhooks.getEvent(event!.id))!.status, "received");
    } finally {
      server.closeAllConnections();
      server.close();
      await webhooks.close();
    }
  });
}
