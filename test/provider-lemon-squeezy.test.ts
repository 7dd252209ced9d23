import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { LemonSqueezyProvider } from "../src/providers/lemon-squeezy.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

// Lemon Squeezy publishes no npm package that signs or verifies webhooks: signatures here are made
// with node:crypto following its documented algorithm (hex HMAC-SHA256 of the raw body).
const SECRET = "ls-whsec-7d1f0c9b2a8e4f63";
const subscription = (eventName: string, status: string) =>
  JSON.stringify({ meta: { event_name: eventName, test_mode: true }, data: { type: "subscriptions", id: "1", attributes: { store_id: 1, order_id: 1, status, product_name: "Pro plan" } } });
const sign = (body: string | Buffer, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");
const receipt = (body: string | Buffer, signature = sign(body), eventName?: string) => ({
  body,
  headers: { "X-Signature": signature, "Content-Type": "application/json", ...(eventName === undefined ? {} : { "X-Event-Name": eventName }) },
});

test("lemon-squeezy: hex HMAC-SHA256 of the body; a one-byte change fails; rotation; malformed signatures", async () => {
  const provider = new LemonSqueezyProvider();
  const body = subscription("subscription_created", "active");
  const ok = await verifyDirect(provider, receipt(body, sign(body), "subscription_created"), [SECRET]);
  assert.equal(ok.valid, true);
  assert.equal(ok.eventType, "subscription_created");
  assert.equal((await verifyDirect(provider, receipt(oneByteChanged(body), sign(body)), [SECRET])).signatureError, "lemon-squeezy signature mismatch");
  assert.equal((await verifyDirect(provider, receipt(body), ["old", SECRET])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(body, sign(body).toUpperCase()), [SECRET])).valid, true, "hex is case-insensitive");
  for (const malformed of ["", "xyz", `sha256=${sign(body)}`, Buffer.from(sign(body), "hex").toString("base64")]) {
    assert.match((await verifyDirect(provider, receipt(body, malformed), [SECRET])).signatureError ?? "", /^lemon-squeezy signature header malformed/, malformed);
  }
  assert.equal((await verifyDirect(provider, { body, headers: {} }, [SECRET])).signatureError, "missing signature header: x-signature");
  const duplicated = await verifyDirect(provider, { body, headers: { "x-signature": [sign(body), sign(body)] } }, [SECRET]);
  assert.equal(duplicated.valid, false);
});

test("lemon-squeezy: event type from X-Event-Name, else meta.event_name", async () => {
  const provider = new LemonSqueezyProvider();
  const body = subscription("subscription_updated", "past_due");
  assert.equal((await verifyDirect(provider, receipt(body, sign(body), "subscription_payment_failed"), [SECRET])).eventType, "subscription_payment_failed");
  assert.equal((await verifyDirect(provider, receipt(body), [SECRET])).eventType, "subscription_updated");
  assert.equal((await verifyDirect(provider, receipt("not json", sign("not json")), [SECRET])).eventType, null);
});

test("lemon-squeezy: no identity — data.id is the subscription, so each distinct body is its own event", async () => {
  const { receive, endpoint } = inbox("lemon-squeezy", [SECRET]);
  const created = subscription("subscription_created", "active");
  const first = await receive(receipt(created, sign(created), "subscription_created"));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.providerEventId, null);
  assert.equal(first.delivery.providerDeliveryId, null);
  assert.equal(first.delivery.dedupeKey, null);
  const updated = subscription("subscription_updated", "cancelled");
  const second = await receive(receipt(updated, sign(updated), "subscription_updated"));
  assert.notEqual(second.result.eventId, first.result.eventId, "two events about subscription 1 stay two");
  const resent = await receive(receipt(created, sign(created), "subscription_created"));
  assert.equal(resent.result.duplicate, true, "no identity, the same signed bytes again: a replay, deduped by the body's SHA-256");
  assert.equal(resent.result.eventId, first.result.eventId);
  // A caller that derives its own identity can pass it.
  assert.equal((await endpoint.receive({ ...receipt(created, sign(created)), dedupeKey: "ls:sub-1:created" })).duplicate, false);
  assert.equal((await endpoint.receive({ ...receipt(created, sign(created)), dedupeKey: "ls:sub-1:created" })).duplicate, true);
});

test("lemon-squeezy: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new LemonSqueezyProvider(), { headerNames: ["x-signature", "x-event-name"], secrets: [SECRET] });
});

test("lemon-squeezy: option validation", async () => {
  await assertRegistrationRejected("lemon-squeezy", { toleranceS: 300 }, ["toleranceS"]);
  await assertRegistrationRejected("lemon-squeezy", {}, ["secret"], []);
});
