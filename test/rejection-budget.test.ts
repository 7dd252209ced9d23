// Rejected receipts cost bounded disk: a rejected delivery keeps at most invalidBodyBytes of its
// body (plus its full length and SHA-256), and at most invalidDeliveriesPerMinute are stored per
// endpoint; the rest are counted. Valid receipts are never cut or dropped.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { open } from "../src/index.js";
import { stripeSignature, tempDbPath } from "./support.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";

const engines = engineMatrix();

const SECRET = "whsec_budget";
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function inbox(options: { invalidBodyBytes?: number; invalidDeliveriesPerMinute?: number; now?: () => number } = {}) {
  const path = tempDbPath();
  const webhooks = open(path, { durability: "normal", ...options });
  const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  return { path, webhooks, stripe };
}

async function engineInbox(engine: TestEngine, options: { invalidBodyBytes?: number; invalidDeliveriesPerMinute?: number; now?: () => number } = {}) {
  const { webhooks, sql } = await engine.inbox({ durability: "normal", ...options });
  const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  return { sql, webhooks, stripe };
}

for (const engine of engines) {
  describe(engine.name, () => {
    test("a rejected delivery keeps the first invalidBodyBytes of its body, its whole length and SHA-256", async () => {
      const { webhooks, stripe } = await engineInbox(engine, { invalidBodyBytes: 100 });
      const body = Buffer.from(JSON.stringify({ id: "evt_x", pad: "a".repeat(10_000) }));
      const result = await stripe.receive({ body, headers: { "stripe-signature": "t=1,v1=00" } });
      assert.equal(result.statusCode, 401);
      const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
      assert.equal(delivery.signatureValid, false);
      assert.deepEqual(delivery.body, body.subarray(0, 100));
      assert.equal(delivery.bodyLength, body.length);
      assert.equal(delivery.bodySha256, sha256(body));
      assert.equal(delivery.bodyTruncated, true);

      const small = await stripe.receive({ body: "{}", headers: {} });
      const smallDelivery = (await webhooks.getDelivery(small.deliveryId!))!;
      assert.equal(smallDelivery.body.toString(), "{}");
      assert.equal(smallDelivery.bodyTruncated, false);
      assert.equal(smallDelivery.bodySha256, sha256("{}"));

      // A valid receipt of any size is stored whole, with no digest.
      const big = JSON.stringify({ id: "evt_big", type: "t", pad: "b".repeat(10_000) });
      const valid = await stripe.receive({ body: big, headers: { "stripe-signature": stripeSignature(big, SECRET) } });
      assert.equal(valid.statusCode, 204);
      const validDelivery = (await webhooks.getDelivery(valid.deliveryId!))!;
      assert.equal(validDelivery.body.toString(), big);
      assert.equal(validDelivery.bodyLength, Buffer.byteLength(big));
      assert.equal(validDelivery.bodySha256, null);
      assert.equal(validDelivery.bodyTruncated, false);
      assert.equal((await webhooks.getEvent(valid.eventId!))!.body.toString(), big);
      await webhooks.close();
    });

    test("at most invalidDeliveriesPerMinute rejected deliveries are stored per endpoint and minute; the rest are counted, valid ones all stored", async () => {
      let clock = 1_800_000_000; // a minute boundary
      const { sql, webhooks, stripe } = await engineInbox(engine, { invalidDeliveriesPerMinute: 5, now: () => clock });
      const other = webhooks.endpoint("other", { path: "/other", provider: "stripe", secrets: [SECRET] });
      const dropped: Array<{ endpoint: string; droppedThisMinute: number }> = [];
      webhooks.on("ingest:rejection-dropped", (e) => dropped.push(e));

      const results = await Promise.all(Array.from({ length: 20 }, () => stripe.receive({ body: "{}", headers: { "stripe-signature": "t=1,v1=00" } })));
      assert.ok(results.every((r) => r.statusCode === 401), "every rejection is still answered 401");
      assert.equal(results.filter((r) => r.deliveryId !== null).length, 5);
      assert.equal(results.filter((r) => r.deliveryId === null).length, 15);
      assert.deepEqual(dropped.at(-1), { endpoint: "stripe", droppedThisMinute: 15 });
      // Another endpoint has a budget of its own, and valid receipts are never limited.
      assert.notEqual((await other.receive({ body: "{}", headers: {} })).deliveryId, null);
      for (let i = 0; i < 10; i++) {
        const body = JSON.stringify({ id: `evt_${i}`, type: "t" });
        const ok = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, SECRET, clock) } });
        assert.equal(ok.statusCode, 204);
        assert.notEqual(ok.eventId, null);
      }
      // The next minute has a fresh budget.
      clock += 60;
      const next = await stripe.receive({ body: "{}", headers: {} });
      assert.notEqual(next.deliveryId, null);
      assert.equal((await webhooks.listDeliveries({ signatureValid: false, limit: 100 })).length, 7);
      await webhooks.close();

      // The dropped count reached the database (for `knocker stats` in another process).
      assert.deepEqual(await sql.all("SELECT e.name, r.minute, r.dropped FROM knocker_dropped_rejections r JOIN knocker_endpoints e ON e.id = r.endpoint_id"),
        [{ name: "stripe", minute: 1_800_000_000, dropped: 15 }]);
    });
  });
}

// The file's growth under a flood: SQLite's pages.
test("a flood of unsigned 1 MB bodies grows the file by a bounded amount", async () => {
  const { path, webhooks, stripe } = inbox({ invalidDeliveriesPerMinute: 10 });
  await stripe.receive({ body: "{}", headers: {} }); // the file's first pages
  const checkpoint = new Database(path); // a connection of the test's own, to fold the WAL into the file
  checkpoint.pragma("wal_checkpoint(TRUNCATE)");
  checkpoint.close();
  const size = () => statSync(path).size + (() => { try { return statSync(`${path}-wal`).size; } catch { return 0; } })();
  const before = size();
  const body = Buffer.alloc(1024 * 1024, 0x7b);
  for (let i = 0; i < 200; i++) await stripe.receive({ body, headers: { "stripe-signature": "t=1,v1=00" } });
  const grown = size() - before;
  // 200 MB sent; at most 10 deliveries of ~4 KiB each (plus pages and WAL frames) stored.
  assert.ok(grown < 1024 * 1024, `file grew by ${grown} bytes`);
  await webhooks.close();
});
