// Stripe vectors: signed with the `stripe` package's own webhooks.generateTestHeaderString and
// checked with webhooks.constructEvent (receivedAt pinned to each vector's `now`).
// Run: npx tsx providers/generate/stripe.ts
import Stripe from "stripe";
import { assertOracle, passes, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "whsec_4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4";
const OLD_SECRET = "whsec_0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
const stripe = new Stripe("sk_test_knocker_vectors");

const checkout = JSON.stringify({
  id: "evt_1OCxQ2LkdIwHu7ix8Hn5pU9r",
  object: "event",
  api_version: "2023-10-16",
  created: 1699999997,
  data: {
    object: {
      id: "cs_test_a1LmXuXwlBHnFkbqr5Yb9dC8mZq1",
      object: "checkout.session",
      amount_total: 4900,
      currency: "eur",
      customer: "cus_P1a2b3c4d5e6f7",
      mode: "payment",
      payment_intent: "pi_3OCxQ1LkdIwHu7ix0a1b2c3d",
      payment_status: "paid",
      status: "complete",
    },
  },
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: "checkout.session.completed",
});

const header = (secret = SECRET, timestamp = NOW - 2, payload = checkout) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
const headers = (signature: string) => ({
  "content-type": "application/json; charset=utf-8",
  "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
  "stripe-signature": signature,
});
const post = (signature = header()) => ({ headers: headers(signature), body: checkout, secrets: [SECRET], now: NOW });
const meta = { eventType: "checkout.session.completed", providerEventId: "evt_1OCxQ2LkdIwHu7ix8Hn5pU9r", providerDeliveryId: null };
const v1Of = (signature: string) => signature.split(",").find((part) => part.startsWith("v1="))!;

const vectors: Record<string, Vector> = {
  "valid": {
    description: "checkout.session.completed; identity is body id (evt_…), not the session id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "multiple-v1": {
    description: "two v1 entries (Stripe sends one per active secret while rolling); the second matches",
    request: post(`t=${NOW - 2},${v1Of(header(OLD_SECRET))},${v1Of(header())}`),
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: checkout.replace("4900", "490") },
    expected: { valid: false, errorContains: "stripe signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(header(OLD_SECRET)),
    expected: { valid: false, errorContains: "stripe signature mismatch" },
  },
  "missing-signature-header": {
    description: "no Stripe-Signature header",
    request: { ...post(), headers: without(headers(header()), "stripe-signature") },
    expected: { valid: false, errorContains: "missing signature header: stripe-signature" },
  },
  "malformed-header": {
    description: "Stripe-Signature without t=",
    request: post(v1Of(header())),
    expected: { valid: false, errorContains: "stripe signature header malformed" },
  },
  "v0-only": {
    description: "only a v0 (test-mode legacy) signature: v1 is required",
    request: post(header().replace("v1=", "v0=")),
    expected: { valid: false, errorContains: "stripe signature header malformed" },
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(header(SECRET, NOW - 301)),
    expected: { valid: false, errorContains: "stripe signature timestamp outside tolerance" },
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s)",
    request: post(header(SECRET, NOW + 301)),
    expected: { valid: false, errorContains: "stripe signature timestamp outside tolerance" },
  },
  "custom-tolerance": {
    description: "toleranceS 600 accepts a 301 s old signature",
    request: { ...post(header(SECRET, NOW - 301)), options: { toleranceS: 600 } },
    expected: { valid: true, ...meta },
  },
};

const construct = (body: string, signature: string, secret = SECRET) =>
  passes(() => stripe.webhooks.constructEvent(body, signature, secret, 300, undefined, NOW * 1000) !== undefined);
assertOracle("stripe", "valid", construct(checkout, header()));
assertOracle("stripe", "multiple-v1", construct(checkout, `t=${NOW - 2},${v1Of(header(OLD_SECRET))},${v1Of(header())}`));
assertOracle("stripe", "tampered-body", !construct(checkout.replace("4900", "490"), header()));
assertOracle("stripe", "wrong-secret", !construct(checkout, header(OLD_SECRET)));
assertOracle("stripe", "expired-timestamp", !construct(checkout, header(SECRET, NOW - 301)));

writeVectors("stripe", vectors);
