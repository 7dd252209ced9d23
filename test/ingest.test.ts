// CONTRACT §4: what every call of receive()/ingest() stores and answers.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open, Provider, ProviderResult, type ProviderRequest } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { stripeSignature, tempDbPath } from "./support.js";

const engines = engineMatrix();

const SECRET = "whsec_test_secret";

// setup() opens the inbox on the test's own connection (the app-owned pattern), which looks at the
// stored rows; they are closed when the file's tests are done.
const connections: Database.Database[] = [];
after(() => connections.forEach((db) => db.close()));

function ownConnection(path = tempDbPath()): Database.Database {
  const db = new Database(path);
  connections.push(db);
  return db;
}

function setup(options: Parameters<typeof open>[1] = {}) {
  const path = tempDbPath();
  const db = ownConnection(path);
  const webhooks = open(db, { retryBackoff: false, ...options });
  const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number);
  return { path, db, webhooks, stripe, count };
}

/** The same on any engine: rows counted through the engine's table reader. */
async function setupOn(engine: TestEngine, options: Parameters<typeof open>[1] = {}) {
  const { webhooks, sql } = await engine.inbox({ retryBackoff: false, ...options });
  const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  const count = async (table: string) => (await sql.one<number>(`SELECT COUNT(*) FROM ${table}`))!;
  return { webhooks, stripe, count };
}

function signed(event: { id?: string; type?: string; [k: string]: unknown }, secret = SECRET) {
  const body = JSON.stringify({ object: "event", ...event });
  return { body, headers: { "Stripe-Signature": stripeSignature(body, secret) } };
}

function customProvider(name: string, verify: (req: ProviderRequest) => unknown, extra: Partial<Provider> = {}): Provider {
  return Object.assign(
    new (class extends Provider {
      readonly name = name;
      readonly version = "1.0.0";
      override readonly requiresSecrets = false;
      verify(req: ProviderRequest) { return verify(req) as ProviderResult; }
    })(),
    extra,
  );
}

for (const engine of engines) {
  describe(engine.name, () => {
    test("an invalid signature stores an orphan delivery with header metadata only (the body is not parsed), no event, no job, 401", async () => {
      const { webhooks, stripe, count } = await setupOn(engine);
      const result = await stripe.receive(signed({ id: "evt_forged", type: "charge.refunded" }, "wrong-secret"));
      assert.deepEqual(result, { deliveryId: result.deliveryId, eventId: null, duplicate: false, statusCode: 401 });
      const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
      assert.equal(delivery.signatureValid, false);
      assert.equal(delivery.signatureError, "stripe signature mismatch");
      assert.equal(delivery.eventId, null);
      // Stripe's id and type are in the body, which is parsed only once its signature is valid.
      assert.equal(delivery.providerEventId, null);
      assert.equal(delivery.eventType, null);
      assert.equal(await count("knocker_events"), 0);
      assert.equal(await count("_honker_live"), 0);
      await webhooks.close();
    });

    test("dedupe key precedence: explicit key, then provider event id, then delivery id, then none", async () => {
      const path = tempDbPath();
      const webhooks = open(path);
      const plain = webhooks.endpoint("plain", { path: "/plain" });
      const a = await plain.receive({ body: "{}", providerEventId: "e1", providerDeliveryId: "d1", dedupeKey: "k1" });
      const b = await plain.receive({ body: "{}", providerEventId: "e2", providerDeliveryId: "d2" });
      const c = await plain.receive({ body: "{}", providerDeliveryId: "d3" });
      const d = await plain.receive({ body: "{}" });
      const e = await plain.receive({ body: "{}" });
      assert.deepEqual(
        (await Promise.all([a, b, c, d].map((r) => webhooks.getEvent(r.eventId!)))).map((event) => event!.dedupeKey),
        ["k1", "e2", "d3", null],
      );
      assert.notEqual(d.eventId, e.eventId, "receipts without any key are separate events");
      assert.equal((await plain.receive({ body: "{}", dedupeKey: "e2" })).duplicate, true);
      assert.equal((await plain.receive({ body: "{}", providerEventId: "x", dedupeKey: "k1" })).duplicate, true);
      await webhooks.close();
    });

    test("dedupe scope is the endpoint: the same key on two endpoints makes two events", async () => {
      const webhooks = await engine.open();
      const one = webhooks.endpoint("one", { path: "/one" });
      const two = webhooks.endpoint("two", { path: "/two" });
      const a = await one.receive({ body: "{}", dedupeKey: "same" });
      const b = await two.receive({ body: "{}", dedupeKey: "same" });
      assert.equal(b.duplicate, false);
      assert.notEqual(a.eventId, b.eventId);
      await webhooks.close();
    });

    test("explicit receive() arguments win over what the provider extracted", async () => {
      const { webhooks, stripe } = await setupOn(engine);
      const result = await stripe.receive({ ...signed({ id: "evt_meta", type: "from.provider" }), eventType: "from.caller", providerDeliveryId: "dlv_9" });
      const event = (await webhooks.getEvent(result.eventId!))!;
      assert.equal(event.eventType, "from.caller");
      assert.equal(event.providerEventId, "evt_meta");
      assert.equal(event.providerDeliveryId, "dlv_9");
      await webhooks.close();
    });

    test("a body over maxBodyBytes answers 413 and stores an orphan delivery with an empty body", async () => {
      const { webhooks, stripe, count } = await setupOn(engine, { maxBodyBytes: 1024 });
      const big = signed({ id: "evt_big", type: "x", pad: "y".repeat(2000) });
      const result = await stripe.receive(big);
      assert.equal(result.statusCode, 413);
      assert.equal(result.eventId, null);
      const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
      assert.equal(delivery.body.length, 0);
      assert.match(delivery.signatureError!, /maxBodyBytes \(1024 bytes\)/);
      assert.equal(await count("knocker_events"), 0);
      await webhooks.close();
    });

    test("unknown endpoint: receive rejects with ERR_UNKNOWN_ENDPOINT and stores nothing", async () => {
      const { webhooks, count } = await setupOn(engine);
      await assert.rejects(webhooks.receive({ endpoint: "nope", body: "{}" }), (e: unknown) => e instanceof KnockerError && e.code === "ERR_UNKNOWN_ENDPOINT");
      assert.equal(await count("knocker_deliveries"), 0);
      await webhooks.close();
    });

    test("receive by endpoint name and Endpoint.receive are the same path", async () => {
      const { webhooks } = await setupOn(engine);
      const byName = await webhooks.receive({ endpoint: "stripe", ...signed({ id: "evt_n", type: "t" }) });
      assert.equal(byName.statusCode, 204);
      assert.equal((await webhooks.getEvent(byName.eventId!))!.endpoint, "stripe");
      await webhooks.close();
    });

    test("NUL characters: a caller's text with one is refused; a verified body's event type and id keep the receipt, with U+FFFD in their place", async () => {
      const { webhooks, stripe, count } = await setupOn(engine);
      const invalid = (field: string) => (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT" && e.message.startsWith(`${field} must not contain a NUL character`);
      for (const field of ["eventType", "providerEventId", "providerDeliveryId", "dedupeKey"]) {
        await assert.rejects(webhooks.ingest({ endpoint: "stripe", body: "{}", [field]: "a\u0000b" }), invalid(field));
      }
      await assert.rejects(webhooks.listEvents({ eventType: "a\u0000" }), invalid("eventType"));
      assert.throws(() => webhooks.endpoint("bad\u0000name", { path: "/bad" }), (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT");
      assert.equal(await count("knocker_deliveries"), 0, "nothing stored for a refused call");

      // JSON escapes a NUL as \u0000: the signed bytes carry it, the parsed id and type hold it.
      const receipt = signed({ id: "evt_\u0000nul", type: "invoice.\u0000paid" });
      assert.ok(receipt.body.includes("\\u0000"));
      const first = await stripe.receive(receipt);
      assert.equal(first.statusCode, 204);
      const event = (await webhooks.getEvent(first.eventId!))!;
      assert.equal(event.eventType, "invoice.\uFFFDpaid");
      assert.equal(event.providerEventId, "evt_\uFFFDnul");
      assert.equal(event.body.toString(), receipt.body, "the body is stored byte for byte");
      const again = await stripe.receive(receipt);
      assert.deepEqual([again.statusCode, again.duplicate, again.eventId], [204, true, first.eventId], "the same receipt is still a duplicate");
      assert.deepEqual((await webhooks.listEvents({ eventType: "invoice.\uFFFDpaid" })).map((e) => e.id), [first.eventId]);
      await webhooks.close();
    });

    test("an endpoint without a provider is trusted ingress: every receipt is valid", async () => {
      const webhooks = await engine.open();
      const trusted = webhooks.endpoint("internal", { path: "/internal" });
      const result = await trusted.receive({ body: "not even json", headers: {} });
      assert.equal(result.statusCode, 204);
      assert.equal((await webhooks.getDelivery(result.deliveryId!))!.signatureValid, true);
      await webhooks.close();
    });

    test("ingest() is trusted: the caller states validity and metadata, the provider is not run", async () => {
      const { webhooks, count } = await setupOn(engine);
      const ok = await webhooks.ingest({
        endpoint: "stripe", body: "{}", headers: {}, query: { a: "1" }, method: "PUT",
        eventType: "checkout.session.completed", providerEventId: "evt_i", providerDeliveryId: "dlv_i", dedupeKey: "evt_i",
        signatureValid: true, signatureError: null,
      });
      const event = (await webhooks.getEvent(ok.eventId!))!;
      assert.deepEqual(
        [event.eventType, event.providerEventId, event.providerDeliveryId, event.dedupeKey, event.method, event.query],
        ["checkout.session.completed", "evt_i", "dlv_i", "evt_i", "PUT", { a: "1" }],
      );
      const bad = await webhooks.ingest({ endpoint: "stripe", body: "{}", signatureValid: false, signatureError: "checked upstream" });
      assert.equal(bad.statusCode, 401);
      assert.equal((await webhooks.getDelivery(bad.deliveryId!))!.signatureError, "checked upstream");
      assert.equal(await count("knocker_events"), 1);
      await webhooks.close();
    });

    class HandshakeProvider extends Provider {
      readonly name = "handshaker";
      readonly version = "1.0.0";
      override readonly requiresSecrets = false;
      verify(request: ProviderRequest) {
        const body = request.json<{ kind: string; challenge?: string }>();
        if (body.kind === "challenge") return ProviderResult.accept({ reply: { contentType: "text/plain", body: body.challenge! } });
        if (body.kind === "ping") return ProviderResult.accept({ handshake: true, eventType: "ping" });
        return ProviderResult.accept({ eventType: body.kind });
      }
    }

    test("handshakes are answered through reply and stored as valid deliveries without an event", async () => {
      const webhooks = await engine.open();
      const ep = webhooks.endpoint("hs", { path: "/hs", provider: new HandshakeProvider() });
      const challenge = await ep.receive({ body: JSON.stringify({ kind: "challenge", challenge: "abc123" }) });
      assert.deepEqual(challenge, { deliveryId: challenge.deliveryId, eventId: null, duplicate: false, statusCode: 200, reply: { contentType: "text/plain", body: "abc123" } });
      const ping = await ep.receive({ body: JSON.stringify({ kind: "ping" }) });
      assert.equal(ping.statusCode, 204);
      assert.equal(ping.eventId, null);
      for (const id of [challenge.deliveryId!, ping.deliveryId!]) {
        const delivery = (await webhooks.getDelivery(id))!;
        assert.equal(delivery.signatureValid, true);
        assert.equal(delivery.eventId, null);
      }
      assert.equal((await webhooks.listEvents()).length, 0);
      await webhooks.close();
    });


    test("a provider that throws, returns junk or rejects yields an invalid receipt naming the provider, never an exception", async () => {
      const webhooks = await engine.open();
      const unprintable = Object.create(null) as object; // String() of it throws
      const cases: Array<[string, (req: ProviderRequest) => unknown, RegExp]> = [
        ["throws", () => { throw new Error("kaboom"); }, /^provider error: p-throws verify\(\) failed: kaboom$/],
        ["junk", () => ({ valid: true }), /^provider error: p-junk verify\(\) did not return a ProviderResult$/],
        ["rejects", async () => { throw new Error("async kaboom"); }, /^provider error: p-rejects verify\(\) failed: async kaboom$/],
        ["json", (req) => req.json(), /^provider error: p-json verify\(\) failed: request body is not valid JSON$/],
        ["unprintable", () => { throw unprintable; }, /^provider error: p-unprintable verify\(\) failed: a value that cannot be turned into text$/],
        ["rejects-unprintable", () => Promise.reject(unprintable), /^provider error: p-rejects-unprintable verify\(\) failed: a value/],
        ["bad-metadata", () => ProviderResult.accept({ eventType: 42 as unknown as string }), /ProviderResult eventType must be a string or null, got number/],
        ["object-id", () => ProviderResult.accept({ providerEventId: {} as unknown as string }), /ProviderResult providerEventId must be a string/],
        ["bad-reply", () => ProviderResult.accept({ reply: { contentType: "text/plain" } as never }), /ProviderResult reply must be/],
        ["bad-status", () => ProviderResult.reject("no", { statusCode: 200 }), /statusCode must be an integer from 400 to 499/],
        ["empty-reason", () => ProviderResult.reject(""), /reject\(\) needs a non-empty error string/],
      ];
      for (const [name, verify, expected] of cases) {
        const ep = webhooks.endpoint(name, { path: `/${name}`, provider: customProvider(`p-${name}`, verify) });
        const result = await ep.receive({ body: "not json" });
        assert.equal(result.statusCode, 401, name);
        assert.equal(result.eventId, null, name);
        const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
        assert.equal(delivery.signatureValid, false, name);
        assert.match(delivery.signatureError!, expected, name);
      }
      assert.equal((await webhooks.listEvents()).length, 0);
      await webhooks.close();
    });

    test("a provider's error message never stores a configured secret", async () => {
      const webhooks = await engine.open();
      const provider = Object.assign(customProvider("leaky", () => { throw new Error("expected sk_live_rotating_1 or sk_live_rotating_2"); }), { requiresSecrets: true });
      const ep = webhooks.endpoint("leaky", { path: "/leaky", provider, secrets: ["sk_live_rotating_1", "sk_live_rotating_2"] });
      const result = await ep.receive({ body: "{}" });
      const error = (await webhooks.getDelivery(result.deliveryId!))!.signatureError!;
      assert.equal(error, "provider error: leaky verify() failed: expected [redacted] or [redacted]");
      await webhooks.close();
    });

    test("custom providers may return a Promise of a ProviderResult", async () => {
      const webhooks = await engine.open();
      const ep = webhooks.endpoint("async", {
        path: "/async",
        secrets: ["s"],
        provider: new (class extends Provider {
          readonly name = "async-provider";
          readonly version = "2.1.0";
          async verify(req: ProviderRequest, { secrets }: { secrets: readonly string[] }) {
            await new Promise((r) => setTimeout(r, 5));
            return req.header("X-Token") === secrets[0]
              ? ProviderResult.accept({ providerEventId: req.header("x-id") })
              : ProviderResult.reject("async-provider token mismatch");
          }
        })(),
      });
      const good = await ep.receive({ body: "{}", headers: { "x-token": "s", "X-Id": "42" } });
      const bad = await ep.receive({ body: "{}", headers: { "x-token": "t" } });
      assert.equal(good.statusCode, 204);
      assert.equal((await webhooks.getEvent(good.eventId!))!.dedupeKey, "42");
      assert.equal(bad.statusCode, 401);
      await webhooks.close();
    });

    test("header lookup is case-insensitive; Headers objects, Uint8Array and string bodies are accepted", async () => {
      const { webhooks, stripe } = await setupOn(engine);
      const { body, headers } = signed({ id: "evt_h", type: "t" });
      const viaHeaders = await stripe.receive({ body: new TextEncoder().encode(body), headers: new Headers({ "STRIPE-SIGNATURE": headers["Stripe-Signature"] }) });
      assert.equal(viaHeaders.statusCode, 204);
      const stored = (await webhooks.getEvent(viaHeaders.eventId!))!;
      assert.equal(stored.body.toString(), body);
      assert.ok("stripe-signature" in stored.headers);
      assert.deepEqual(stored.json(), JSON.parse(body));
      await webhooks.close();
    });

    test("a disabled endpoint stores an orphan delivery and answers 404", async () => {
      const webhooks = await engine.open();
      const ep = webhooks.endpoint("off", { path: "/off", enabled: false });
      const result = await ep.receive({ body: "{}" });
      assert.equal(result.statusCode, 404);
      assert.match((await webhooks.getDelivery(result.deliveryId!))!.signatureError!, /disabled/);
      await webhooks.close();
    });

    test("bad arguments are typed errors, not crashes", async () => {
      const { webhooks, stripe } = await setupOn(engine);
      await assert.rejects(stripe.receive({ body: 42 as unknown as string }), TypeError);
      await assert.rejects(stripe.receive({ body: "{}", headers: "x" as unknown as Record<string, string> }), TypeError);
      await assert.rejects(stripe.receive({ body: "{}", dedupeKey: 5 as unknown as string }), TypeError);
      await assert.rejects(webhooks.receive(null as never), TypeError);
      await webhooks.close();
      await assert.rejects(stripe.receive({ body: "{}" }), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
    });

    test("an empty id is no identity: receipts whose provider sends an empty id or delivery id stay separate events", async () => {
      const webhooks = await engine.open();
      const token = webhooks.endpoint("token", { path: "/token", provider: "bearer-token", secrets: ["t0ken"] });
      const auth = { authorization: "Bearer t0ken" };
      const first = await token.receive({ body: '{"id":"","type":"a"}', headers: auth });
      const second = await token.receive({ body: '{"id":"","type":"b"}', headers: auth });
      assert.equal(second.duplicate, false);
      assert.notEqual(first.eventId, second.eventId);
      assert.equal((await webhooks.getEvent(first.eventId!))!.dedupeKey, null);
      assert.equal((await webhooks.getEvent(first.eventId!))!.providerEventId, null);

      const github = webhooks.endpoint("github", { path: "/github", provider: "github", secrets: ["gh"] });
      const push = (n: number) => {
        const body = JSON.stringify({ n });
        return { body, headers: { "x-github-event": "push", "x-github-delivery": "", "x-hub-signature-256": `sha256=${createHmac("sha256", "gh").update(body).digest("hex")}` } };
      };
      const a = await github.receive(push(1));
      const b = await github.receive(push(2));
      assert.equal(a.statusCode, 204);
      assert.equal(b.duplicate, false);
      assert.notEqual(a.eventId, b.eventId);

      // The caller's explicit identity must be a real one.
      for (const key of ["dedupeKey", "providerEventId", "providerDeliveryId", "eventType"] as const) {
        await assert.rejects(token.ingest({ body: "{}", [key]: "" }), (e: unknown) => e instanceof TypeError && e.message === `${key} must be a non-empty string or null`);
      }
      await webhooks.close();
    });

    test("the stored body is the verified one: changing the caller's buffer after receive() changes nothing", async () => {
      const { webhooks, stripe } = await setupOn(engine);
      const { body, headers } = signed({ id: "evt_copy", type: "t" });
      const bytes = Buffer.from(body);
      const pending = stripe.receive({ body: bytes, headers });
      bytes.fill(0x41); // before the group commit runs
      const result = await pending;
      assert.equal((await webhooks.getEvent(result.eventId!))!.body.toString(), body);
      assert.equal((await webhooks.getDelivery(result.deliveryId!))!.body.toString(), body);
      await webhooks.close();
    });

    test("ill-typed receive() arguments are TypeErrors, and nothing is stored", async () => {
      const { webhooks, stripe, count } = await setupOn(engine);
      await assert.rejects(stripe.receive({ body: "{}", method: 42 as never }), (e: unknown) => e instanceof TypeError && /method must be a non-empty string/.test(e.message));
      await assert.rejects(stripe.receive({ body: 42 as never }), TypeError);
      await assert.rejects(stripe.receive({ body: "{}", headers: "x" as never }), TypeError);
      assert.equal(await count("knocker_deliveries"), 0);
      await webhooks.close();
    });

    test("a misspelt input key is refused, not ignored: receive({ dedupe_key }) would otherwise mean no dedupe", async () => {
      const { webhooks, stripe, count } = await setupOn(engine);
      const trusted = webhooks.endpoint("trusted", { path: "/trusted" });
      const refused = (pattern: RegExp) => (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT" && pattern.test(e.message);
      await assert.rejects(trusted.receive({ body: "{}", dedupe_key: "k" } as never), refused(/receive\(\) has no option "dedupe_key" \(known: endpoint, body, headers/));
      await assert.rejects(stripe.receive({ body: "{}", signatureValid: true } as never), refused(/receive\(\) has no option "signatureValid"/), "only trusted ingest() states the verdict");
      await assert.rejects(webhooks.ingest({ endpoint: "trusted", body: "{}", signature: "x" } as never), refused(/ingest\(\) has no option "signature"/));
      const ok = await webhooks.ingest({ endpoint: "trusted", body: "{}", signatureValid: false, signatureError: "checked upstream" });
      assert.equal(ok.statusCode, 401);
      assert.equal(await count("knocker_deliveries"), 1, "refused calls store nothing");
      await webhooks.close();
    });
  });
}

// SQLite: the file, its connections, locks and triggers.
test("a valid receipt with a new key stores event, linked delivery and job, committed before it resolves", async () => {
  const { path, webhooks, stripe, count } = setup();
  const result = await stripe.receive(signed({ id: "evt_1", type: "invoice.paid" }));
  assert.equal(result.statusCode, 204);
  assert.equal(result.duplicate, false);
  assert.ok(result.eventId !== null);
  assert.equal(result.reply, undefined);

  // Another connection sees everything the moment the promise resolved: it was committed.
  const other = new Database(path, { readonly: true });
  const event = other.prepare("SELECT status, dedupe_key, provider_event_id, event_type FROM knocker_events WHERE id = ?").get(result.eventId) as Record<string, unknown>;
  assert.deepEqual(event, { status: "received", dedupe_key: "evt_1", provider_event_id: "evt_1", event_type: "invoice.paid" });
  const delivery = other.prepare("SELECT event_id, signature_valid FROM knocker_deliveries WHERE id = ?").get(result.deliveryId);
  assert.deepEqual(delivery, { event_id: result.eventId, signature_valid: 1 });
  const job = other.prepare("SELECT queue, payload, state FROM _honker_live").get();
  assert.deepEqual(job, { queue: "knocker.events", payload: JSON.stringify({ event_id: result.eventId }), state: "pending" });
  other.close();
  assert.equal(count("knocker_deliveries"), 1);
  await webhooks.close();
});

test("a duplicate key adds only a linked delivery, in any event status including dead", async () => {
  const { db, webhooks, stripe, count } = setup();
  const first = await stripe.receive(signed({ id: "evt_dup", type: "a" }));
  for (const status of ["received", "handled", "failed", "dead", "ignored"]) {
    db.prepare("UPDATE knocker_events SET status = ?, last_error = 'x' WHERE id = ?").run(status, first.eventId);
    const before = db.prepare("SELECT * FROM knocker_events WHERE id = ?").get(first.eventId);
    const jobsBefore = count("_honker_live");
    const again = await stripe.receive(signed({ id: "evt_dup", type: "a", extra: status }));
    assert.equal(again.duplicate, true, status);
    assert.equal(again.eventId, first.eventId);
    assert.equal(again.statusCode, 204);
    assert.deepEqual(db.prepare("SELECT * FROM knocker_events WHERE id = ?").get(first.eventId), before, "event row untouched");
    assert.equal(count("_honker_live"), jobsBefore, "no new job");
    assert.equal((await webhooks.getDelivery(again.deliveryId!))!.eventId, first.eventId);
  }
  assert.equal(count("knocker_events"), 1);
  assert.equal(count("knocker_deliveries"), 6);
  await webhooks.close();
});

test("a provider whose verify() never settles is cut off after 10 s: an invalid receipt, not a hung receive()", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const webhooks = open(tempDbPath());
  const ep = webhooks.endpoint("hang", { path: "/hang", provider: customProvider("p-hang", () => new Promise(() => {})) });
  let settled = false;
  const pending = ep.receive({ body: "{}" }).finally(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.mock.timers.tick(9_999);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, "still waiting just before the limit");
  t.mock.timers.tick(1);
  const result = await pending;
  assert.equal(result.statusCode, 401);
  assert.match((await webhooks.getDelivery(result.deliveryId!))!.signatureError!, /^provider error: p-hang verify\(\) failed: verify\(\) did not settle within 10000 ms$/);
  await webhooks.close();
});

test("secretHeaders()/secretQueryParams() are asked once, at registration: a throwing or ill-typed one refuses the endpoint", async () => {
  const webhooks = open(tempDbPath());
  const throwing = customProvider("p-secret-headers", () => ProviderResult.accept(), {
    secretHeaders: () => { throw new Error("boom"); },
  });
  assert.throws(() => webhooks.endpoint("a", { path: "/a", provider: throwing }), (error: unknown) =>
    error instanceof KnockerError && error.code === "ERR_INVALID_ARGUMENT" && /endpoint "a": provider "p-secret-headers" secretHeaders\(\) failed: boom/.test(error.message));
  const illTyped = customProvider("p-secret-query", () => ProviderResult.accept(), {
    secretQueryParams: () => [42] as unknown as string[],
  });
  assert.throws(() => webhooks.endpoint("b", { path: "/b", provider: illTyped }), /secretQueryParams\(\) must return an array of strings/);
  await webhooks.close();
});

test("concurrent receive() calls share one commit, and one failing receipt does not fail its neighbours", async () => {
  const { db, webhooks, stripe, count } = setup();
  const commits: number[] = [];
  webhooks.on("ingest:commit", ({ receipts }) => commits.push(receipts));
  // A trigger that refuses one particular event: that receipt's SAVEPOINT rolls back alone.
  db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON knocker_events WHEN NEW.dedupe_key = 'evt_poison'
    BEGIN SELECT RAISE(ABORT, 'poisoned receipt'); END`);
  const calls = Array.from({ length: 64 }, (_, i) => stripe.receive(signed({ id: i === 17 ? "evt_poison" : `evt_c${i}`, type: "t" })));
  const settled = await Promise.allSettled(calls);
  assert.deepEqual(commits, [64], "one group commit for 64 concurrent calls");
  const rejected = settled.filter((s) => s.status === "rejected");
  assert.equal(rejected.length, 1);
  const reason = (rejected[0] as PromiseRejectedResult).reason;
  assert.ok(reason instanceof KnockerError && reason.code === "ERR_STORAGE" && /poisoned receipt/.test(reason.message));
  assert.equal(count("knocker_events"), 63);
  assert.equal(count("knocker_deliveries"), 63, "the failed receipt left no half-written rows");
  assert.equal(count("_honker_live"), 63);
  await webhooks.close();
});

test("a group commit stores exactly what one commit per receipt stores: same rows, same ids, arrival order", async () => {
  // The batch path writes runs of new events with multi-row statements; this compares it,
  // table by table, with the same receipts stored one commit each in a second file.
  const now = Math.floor(Date.now() / 1000);
  const receipts: Array<{ endpoint: string; body: string; headers: Record<string, string>; trusted?: boolean }> = [];
  const stripeReceipt = (event: Record<string, unknown>, secret = SECRET) => ({ endpoint: "stripe", ...signed(event, secret) });
  receipts.push(stripeReceipt({ id: "evt_before", type: "t" })); // stored before the batch: its repeat below is a duplicate
  const batch = [
    ...Array.from({ length: 40 }, (_, i) => stripeReceipt({ id: `evt_a${i}`, type: "a" })),
    stripeReceipt({ id: "evt_forged", type: "t" }, "whsec_wrong"),
    stripeReceipt({ id: "evt_before", type: "t" }),
    ...Array.from({ length: 5 }, (_, i) => stripeReceipt({ id: `evt_b${i}`, type: "b" })),
    stripeReceipt({ id: "evt_a3", type: "a" }), // a duplicate of a receipt earlier in this batch
    stripeReceipt({ type: "no.identity" }), // no id: an event without a dedupe key
    stripeReceipt({ type: "no.identity" }),
    { endpoint: "trusted", body: "{}", headers: {}, trusted: true }, // valid, with a signature note
    ...Array.from({ length: 33 }, (_, i) => stripeReceipt({ id: `evt_c${i}`, type: "c" })),
  ];
  const store = (webhooks: ReturnType<typeof open>, r: (typeof receipts)[number]) =>
    r.trusted
      ? webhooks.ingest({ endpoint: r.endpoint, body: r.body, headers: r.headers, signatureValid: true, signatureError: "checked upstream" })
      : webhooks.receive({ endpoint: r.endpoint, body: r.body, headers: r.headers });
  const inbox = () => {
    const db = ownConnection();
    const webhooks = open(db, { retryBackoff: false, now: () => now });
    webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
    webhooks.endpoint("trusted", { path: "/trusted" });
    return { webhooks, db };
  };
  const outcome = (settled: PromiseSettledResult<unknown>) => (settled.status === "fulfilled" ? settled.value : "rejected");

  const { webhooks: grouped, db: groupedDb } = inbox();
  const commits: number[] = [];
  await store(grouped, receipts[0]!);
  grouped.on("ingest:commit", ({ receipts: n }) => commits.push(n));
  const groupedResults = (await Promise.allSettled(batch.map((r) => store(grouped, r)))).map(outcome);
  assert.deepEqual(commits, [batch.length], "the whole batch went into one commit");

  const { webhooks: single, db: singleDb } = inbox();
  const singleResults: unknown[] = [];
  await store(single, receipts[0]!);
  for (const r of batch) singleResults.push(outcome((await Promise.allSettled([store(single, r)]))[0]!));

  assert.deepEqual(groupedResults, singleResults);
  const duplicateInBatch = groupedResults[47] as { duplicate: boolean; eventId: number };
  assert.equal(duplicateInBatch.duplicate, true);
  assert.equal(duplicateInBatch.eventId, (groupedResults[3] as { eventId: number }).eventId, "evt_a3's repeat joins evt_a3's event");
  for (const table of ["knocker_events", "knocker_deliveries", "_honker_live"]) {
    const rows = (db: Database.Database) => db.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
    assert.deepEqual(rows(groupedDb), rows(singleDb), table);
  }
  assert.equal(groupedDb.prepare("SELECT COUNT(*) FROM knocker_events").pluck().get(), 1 + 40 + 5 + 2 + 1 + 33);
  await grouped.close();
  await single.close();
});

test("an app trigger that adds rows to knocker_events between ours does not mix up which event is whose", async () => {
  const { db, webhooks, stripe } = setup();
  // Every new event also gets a sibling row, so a batch's events are not numbered consecutively.
  db.exec(`CREATE TRIGGER sibling AFTER INSERT ON knocker_events WHEN NEW.event_type = 't'
    BEGIN INSERT INTO knocker_events (endpoint_id, received_at, method, headers_json, body_blob, query_json, event_type)
      VALUES (NEW.endpoint_id, NEW.received_at, 'POST', '{}', x'', '{}', 'sibling'); END`);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stripe.receive(signed({ id: `evt_s${i}`, type: "t" }))));
  results.forEach((result, i) => {
    const event = db.prepare("SELECT dedupe_key FROM knocker_events WHERE id = ?").pluck().get(result.eventId);
    assert.equal(event, `evt_s${i}`);
    const delivery = db.prepare("SELECT event_id, dedupe_key FROM knocker_deliveries WHERE id = ?").get(result.deliveryId);
    assert.deepEqual(delivery, { event_id: result.eventId, dedupe_key: `evt_s${i}` });
    const jobs = db.prepare("SELECT COUNT(*) FROM _honker_live WHERE payload = ?").pluck().get(JSON.stringify({ event_id: result.eventId }));
    assert.equal(jobs, 1);
  });
  assert.equal(db.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get(), 10, "no job for the app's own rows");
  await webhooks.close();
});

test("a storage failure (disk full) rejects every receipt of the batch: never a 2xx for an uncommitted receipt", async () => {
  const { db, webhooks, stripe, count } = setup();
  await stripe.receive(signed({ id: "evt_warm", type: "t" }));
  const pages = db.pragma("page_count", { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const big = "z".repeat(64 * 1024);
  const results = await Promise.allSettled([1, 2, 3].map((i) => stripe.receive(signed({ id: `evt_full${i}`, type: "t", big }))));
  for (const r of results) {
    assert.equal(r.status, "rejected");
    const reason = (r as PromiseRejectedResult).reason;
    assert.ok(reason instanceof KnockerError && reason.code === "ERR_STORAGE", String(reason));
  }
  assert.equal(count("knocker_events"), 1);
  await webhooks.close();
});

test("credential headers are never written to the database", async () => {
  const path = tempDbPath();
  const webhooks = open(path);
  const ep = webhooks.endpoint("trusted", { path: "/t" });
  const result = await ep.receive({ body: "{}", headers: { Authorization: "Bearer sekrit-token", Cookie: "sid=sekrit", "X-Other": "visible" } });
  const delivery = (await webhooks.getDelivery(result.deliveryId!))!;
  assert.deepEqual(delivery.headers, { authorization: "[redacted]", cookie: "[redacted]", "x-other": "visible" });
  const file = new Database(path, { readonly: true });
  const raw = file.prepare("SELECT headers_json FROM knocker_deliveries").pluck().all().join();
  file.close();
  assert.ok(!raw.includes("sekrit"));
  await webhooks.close();
});

test("a write lock held past the busy timeout: receive() rejects with ERR_STORAGE_BUSY, HTTP answers 503 + Retry-After, nothing is stored", async () => {
  const path = tempDbPath();
  const webhooks = open(path, { busyTimeoutMs: 20 });
  const ep = webhooks.endpoint("e", { path: "/e" });
  const other = new Database(path);
  other.exec("BEGIN IMMEDIATE"); // another process's long write transaction
  try {
    await assert.rejects(ep.receive({ body: "{}", dedupeKey: "k" }), (e: unknown) =>
      e instanceof KnockerError && e.code === "ERR_STORAGE_BUSY" && /storing receipts failed: database is locked/.test(e.message));
    const response = await webhooks.fetch(new Request("http://localhost/e", { method: "POST", body: "{}" }));
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.equal(await response.text(), "");
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  assert.equal((await webhooks.listDeliveries()).length, 0, "no 2xx and no row for a receipt that did not commit");
  const retried = await ep.receive({ body: "{}", dedupeKey: "k" });
  assert.equal(retried.statusCode, 204);
  assert.equal(retried.duplicate, false);
  await webhooks.close();
});

test("disk full part-way through a group commit refuses the whole batch: receipts that fit are not committed on their own", async () => {
  const { db, webhooks, stripe, count } = setup();
  await stripe.receive(signed({ id: "evt_warm", type: "t" }));
  const pages = db.pragma("page_count", { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 4}`); // room for small receipts, not for a big one
  const big = "z".repeat(256 * 1024);
  const calls = [signed({ id: "evt_small1", type: "t" }), signed({ id: "evt_big", type: "t", big }), signed({ id: "evt_small2", type: "t" })]
    .map((receipt) => stripe.receive(receipt));
  const results = await Promise.allSettled(calls);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  for (const r of results) assert.ok((r as PromiseRejectedResult).reason instanceof KnockerError);
  assert.equal(db.inTransaction, false);
  assert.equal(count("knocker_events"), 1, "only the warm-up event");
  assert.equal(count("knocker_deliveries"), 1);
  assert.equal(count("_honker_live"), 1);
  await webhooks.close();
});
