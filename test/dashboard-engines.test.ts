// The dashboard over HTTP on every engine (test/support/engines.ts): `dashboard.node` on a real
// node:http server in front of a SQLite or a Postgres inbox. Each page answers 200 with that
// inbox's rows (overview counts, event and delivery pages, a lookup, an event, the audits), and a
// bulk replay goes through its preview and CSRF-checked form to the events.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { engineMatrix } from "./support/engines.js";
import { serve } from "./support/dashboard.js";
import { drain, stripeSignature } from "./support.js";

const engines = engineMatrix();

for (const engine of engines) {
  describe(engine.name, () => {
    test("every page answers 200 with the inbox's data; a bulk replay through the preview and the form", async () => {
      const webhooks = await engine.open({ maxAttempts: 1, retryBackoff: false });
      const orders = webhooks.endpoint("orders", { path: "/hooks/orders" });
      orders.handle("order.paid", () => undefined);
      orders.handle("order.fail", () => {
        throw new Error("card declined: insufficient funds");
      });
      const stripe = webhooks.endpoint("stripe", { path: "/hooks/stripe", provider: "stripe", secrets: ["whsec_dash"] });
      const paid = (await orders.ingest({ body: '{"n":1}', eventType: "order.paid", dedupeKey: "paid-1" })).eventId!;
      const dead = [
        (await orders.ingest({ body: '{"n":2}', eventType: "order.fail", dedupeKey: "fail-1" })).eventId!,
        (await orders.ingest({ body: '{"n":3}', eventType: "order.fail", dedupeKey: "fail-2" })).eventId!,
      ];
      await drain(webhooks, async () => (await webhooks.listEvents({ status: "received" })).length === 0);
      const waiting = (await orders.ingest({ body: '{"n":4}', eventType: "order.paid", dedupeKey: "later-1" })).eventId!;
      const body = JSON.stringify({ id: "evt_forged", type: "charge.succeeded" });
      const rejected = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, "whsec_wrong") } });
      assert.equal(rejected.statusCode, 401);
      await webhooks.pruneOrphanDeliveries({ olderThan: 0 }); // an audit row (nothing that old)

      const served = await serve(webhooks.dashboard({ authorize: "local-only" }));
      const page = async (path: string) => {
        const response = await fetch(`${served.url}${path}`);
        assert.equal(response.status, 200, `GET ${path}`);
        return { html: await response.text(), cookie: response.headers.getSetCookie()[0]?.split(";")[0] };
      };
      const eventLinks = (html: string) => [...html.matchAll(/href="\/events\/(\d+)"/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
      try {
        const overview = (await page("/")).html;
        for (const name of ["orders", "stripe"]) assert.match(overview, new RegExp(`>${name}</a>`));
        assert.match(overview, /status=dead">2<\/a>/, "the orders endpoint's dead count");
        assert.match(overview, /status=handled">1<\/a>/, "and its handled count");

        assert.deepEqual(eventLinks((await page("/events")).html), [paid, ...dead, waiting]);
        assert.deepEqual(eventLinks((await page("/events?status=dead")).html), dead);
        assert.deepEqual(eventLinks((await page("/events?status=handled&endpoint=orders")).html), [paid]);
        assert.match((await page("/events?q=later-1")).html, new RegExp(`<title>Event ${waiting} `), "a lookup by dedupe key: its one hit's page");
        assert.match((await page(`/events?q=${rejected.deliveryId}`)).html, new RegExp(`<title>Delivery ${rejected.deliveryId} `), "by id: a delivery (no event has that id)");
        assert.match((await page(`/events/${dead[0]}`)).html, /card declined: insufficient funds/);
        assert.match((await page("/deliveries?kind=invalid")).html, new RegExp(`href="/deliveries/${rejected.deliveryId}"`));
        assert.match((await page(`/deliveries/${rejected.deliveryId}`)).html, /evt_forged/);
        assert.match((await page("/audits")).html, /<td>orphan deliveries<\/td>\s*<td>knocker.events<\/td>/);

        // A bulk replay of the dead events: the preview fixes the selection, the form's POST runs it.
        const preview = await page("/bulk?action=replay&status=dead");
        assert.match(preview.html, /id="dry-run-count" data-count="2" data-total="2"/);
        const form = /<form method="post" action="\/bulk"[^>]*>([^]*?)<\/form>/.exec(preview.html)![1]!;
        const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
        assert.ok(fields.csrf && fields.digest, JSON.stringify(fields));
        const confirmed = await fetch(`${served.url}/bulk`, {
          method: "POST",
          redirect: "manual",
          headers: { cookie: preview.cookie!, origin: served.url, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(fields).toString(),
        });
        assert.equal(confirmed.status, 200, await confirmed.clone().text());
        assert.deepEqual(await Promise.all(dead.map(async (id) => (await webhooks.getEvent(id))!.status)), ["received", "received"]);
        assert.equal((await webhooks.getEvent(paid))!.status, "handled");
      } finally {
        await served.close();
        await webhooks.close();
      }
    });
  });
}
