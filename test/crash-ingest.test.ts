// Issue 2, must show 3: a receipt acknowledged with durability "full" survives the process
// being killed. A real child process receives signed Stripe webhooks in a loop (some one at a
// time, some in concurrent bursts that share a group commit) and reports each result as soon as
// its promise resolves; the parent SIGKILLs it at a random moment, reopens the file and checks
// that every reported delivery and event is there, intact.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import Database from "better-sqlite3";
import { open } from "../src/index.js";
import { stripeSignature, tempDbPath } from "./support.js";
import { Child, fixture, sleep, type Message } from "./support/processes.js";

const SECRET = "whsec_crash_test_secret";
const ROUNDS = 4;
/** Results the child must have reported before the kill can come. */
const MIN_RESULTS = 25;

for (let round = 1; round <= ROUNDS; round++) {
  test(`round ${round}: every receipt reported before SIGKILL is in the reopened file`, async (t) => {
    const path = tempDbPath();
    const seed = randomInt(1, 2 ** 31);
    // A different random kill moment each round, from "right after the first results" to
    // "well into the run"; printed so a failing round can be reproduced.
    const killAfterMs = randomInt(0, 700);
    t.diagnostic(`seed=${seed} killAfterMs=${killAfterMs} (after >= ${MIN_RESULTS} results)`);

    const child = new Child(fixture("crash-ingest-child.ts"), [path, SECRET, String(seed)]);
    t.after(() => child.kill());
    const ready = await child.next("ready", 30_000);
    assert.equal(ready.synchronous, 2, 'durability "full" must mean PRAGMA synchronous = FULL (2)');
    await child.until(() => child.of("result").length >= MIN_RESULTS, 30_000, `${MIN_RESULTS} results`);
    await child.next("batched", 30_000); // concurrent receipts did share a commit
    await sleep(killAfterMs);
    child.kill("SIGKILL");
    const exit = await child.closed;
    assert.equal(exit.signal, "SIGKILL", `the child must die by the kill, not on its own:\n${child.stderr}`);

    const results = child.of("result");
    const kinds = (kind: string) => results.filter((r) => r.kind === kind);
    t.diagnostic(`reported ${results.length} results: ${kinds("new").length} new, ${kinds("repeat").length} repeats, ${kinds("bad").length} bad`);
    assert.ok(kinds("new").length > 0);

    const webhooks = open(path, { durability: "full" });
    t.after(() => webhooks.close());
    const db = new Database(path, { readonly: true }); // a connection of the test's own, to look at the reopened file
    t.after(() => db.close());
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    assert.deepEqual(db.pragma("foreign_key_check"), []);

    const eventIdByKey = new Map<string, number>();
    for (const r of results) await checkReported(webhooks, r, eventIdByKey);

    // Nothing half-written: every event committed with its job (no worker ran), and no
    // valid delivery lost its event.
    const eventsWithoutJob = db.prepare(
      `SELECT COUNT(*) FROM knocker_events e WHERE NOT EXISTS (
         SELECT 1 FROM _honker_live j WHERE j.queue = ? AND json_extract(j.payload, '$.event_id') = e.id)`,
    ).pluck().get(webhooks.queueName);
    assert.equal(eventsWithoutJob, 0, "an event without its queue job");
    assert.equal(db.prepare("SELECT COUNT(*) FROM knocker_events WHERE status <> 'received'").pluck().get(), 0);
    const stored = db.prepare("SELECT COUNT(*) FROM knocker_deliveries").pluck().get() as number;
    assert.ok(stored >= results.length, `${stored} deliveries stored, ${results.length} reported`);

    // The reopened file keeps working, dedupe index included.
    const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
    const [key, eventId] = [...eventIdByKey][0]!;
    const body = JSON.stringify({ id: key, object: "event", type: "checkout.session.completed" });
    const again = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, SECRET) } });
    assert.equal(again.duplicate, true);
    assert.equal(again.eventId, eventId);
  });
}

async function checkReported(webhooks: ReturnType<typeof open>, r: Message, eventIdByKey: Map<string, number>): Promise<void> {
  const what = `reported ${r.kind} receipt ${String(r.id)} (delivery ${String(r.deliveryId)})`;
  const delivery = await webhooks.getDelivery(r.deliveryId as number);
  assert.ok(delivery, `${what}: delivery missing after the crash`);
  assert.equal(delivery.providerEventId, r.kind === "bad" ? null : r.id, what); // a refused body is never parsed
  assert.equal(delivery.endpoint, "stripe", what);
  assert.equal(delivery.json<{ id: string }>().id, r.id, what);
  if (r.kind === "bad") {
    assert.equal(r.statusCode, 401, what);
    assert.equal(r.eventId, null, what);
    assert.equal(delivery.eventId, null, what);
    assert.equal(delivery.signatureValid, false, what);
    assert.match(delivery.signatureError ?? "", /signature mismatch/, what);
    return;
  }
  assert.equal(r.statusCode, 204, what);
  assert.equal(r.duplicate, r.kind === "repeat", what);
  assert.equal(delivery.signatureValid, true, what);
  assert.equal(delivery.eventId, r.eventId, what);
  const event = await webhooks.getEvent(r.eventId as number);
  assert.ok(event, `${what}: event ${String(r.eventId)} missing after the crash`);
  assert.equal(event.providerEventId, r.id, what);
  assert.equal(event.eventType, "checkout.session.completed", what);
  assert.equal(event.status, "received", what);
  const known = eventIdByKey.get(r.id as string);
  if (known !== undefined) assert.equal(known, r.eventId, `${what}: one key, two events`);
  eventIdByKey.set(r.id as string, r.eventId as number);
}
