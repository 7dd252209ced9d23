import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import Stripe from "stripe";
import { StripeProvider } from "../src/providers/stripe.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "whsec_4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4";
const stripe = new Stripe("sk_test_knocker");
const event = (id: string, type: string, amount = 4900) =>
  JSON.stringify({ id, object: "event", type, created: NOW - 3, data: { object: { id: "cs_test_a1LmXuXw", object: "checkout.session", amount_total: amount } }, livemode: false });
const receipt = (body: string | Buffer, signature: string) => ({ body, headers: { "Stripe-Signature": signature, "Content-Type": "application/json" } });
const ourSignature = (body: string | Buffer, timestamp = NOW) =>
  `t=${timestamp},v1=${createHmac("sha256", SECRET).update(`${timestamp}.`).update(body).digest("hex")}`;

test("stripe: generateTestHeaderString is accepted; our signature passes constructEvent; a one-byte change fails both", async () => {
  const body = event("evt_1", "checkout.session.completed");
  const theirs = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: NOW });
  assert.equal((await verifyDirect(new StripeProvider(), receipt(body, theirs), [SECRET])).valid, true);

  const ours = ourSignature(body);
  assert.equal((await verifyDirect(new StripeProvider(), receipt(body, ours), [SECRET])).valid, true);
  const constructed = stripe.webhooks.constructEvent(body, ours, SECRET, 300, undefined, NOW * 1000);
  assert.equal(constructed.id, "evt_1");

  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new StripeProvider(), receipt(changed, ours), [SECRET])).signatureError, "stripe signature mismatch");
  assert.throws(() => stripe.webhooks.constructEvent(changed, ours, SECRET, 300, undefined, NOW * 1000));
});

test("stripe: identity is the event id (evt_…); two events about one session stay two; a retry is a duplicate", async () => {
  const { receive } = inbox("stripe", [SECRET]);
  const completed = event("evt_completed", "checkout.session.completed");
  const first = await receive(receipt(completed, ourSignature(completed)));
  assert.equal(first.delivery.eventType, "checkout.session.completed");
  assert.equal(first.delivery.providerEventId, "evt_completed");
  const expired = event("evt_expired", "checkout.session.async_payment_succeeded");
  const second = await receive(receipt(expired, ourSignature(expired)));
  assert.equal(second.result.duplicate, false);
  const retry = await receive(receipt(completed, ourSignature(completed, NOW + 30)));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
});

test("stripe: tolerance is symmetric, any v1 may match, and malformed headers are rejected", async () => {
  const body = event("evt_t", "invoice.paid");
  const provider = new StripeProvider();
  const check = (signature: string, options = {}) => verifyDirect(provider, receipt(body, signature), [SECRET], options);
  assert.equal((await check(ourSignature(body, NOW - 300))).valid, true);
  assert.equal((await check(ourSignature(body, NOW - 301))).signatureError, "stripe signature timestamp outside tolerance");
  assert.equal((await check(ourSignature(body, NOW + 301))).signatureError, "stripe signature timestamp outside tolerance");
  assert.equal((await check(ourSignature(body, NOW - 301), { toleranceS: 400 })).valid, true);
  const good = ourSignature(body).split(",")[1]!;
  assert.equal((await check(`t=${NOW},v1=${"00".repeat(32)},${good}`)).valid, true);
  assert.equal((await check(`t=${NOW},v1=zz,${good}`)).valid, true, "a malformed v1 next to a good one is skipped");
  for (const malformed of ["", "t=,v1=", `v1=${"00".repeat(32)}`, `t=${NOW}`, `t=abc,${good}`, `t=-1,${good}`, `t=1e9,${good}`]) {
    const result = await check(malformed);
    assert.equal(result.valid, false, malformed);
    assert.match(result.signatureError ?? "", /^stripe /, malformed);
  }
  // A duplicated header is joined with ", ": it still verifies only with a genuine signature.
  const duplicated = await verifyDirect(provider, { body, headers: { "stripe-signature": [ourSignature(body), `t=${NOW},v1=${"11".repeat(32)}`] } }, [SECRET]);
  assert.equal(duplicated.valid, true);
});

test("stripe: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new StripeProvider(), { headerNames: ["stripe-signature"], secrets: [SECRET] });
});

test("stripe: option validation", async () => {
  await assertRegistrationRejected("stripe", { toleranceS: "300" }, ["toleranceS"]);
  await assertRegistrationRejected("stripe", { toleranceS: -5 }, ["toleranceS"]);
  await assertRegistrationRejected("stripe", { tolerance: 300 }, ["tolerance"]);
  await assertRegistrationRejected("stripe", {}, ["secret"], []);
});
