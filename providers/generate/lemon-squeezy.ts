// Lemon Squeezy vectors: signed with node:crypto following Lemon Squeezy's published algorithm
// (hex HMAC-SHA256 of the raw body); no official npm package signs or verifies webhooks.
// Run: npx tsx providers/generate/lemon-squeezy.ts
import { createHmac } from "node:crypto";
import { without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "ls-whsec-7d1f0c9b2a8e4f63";
const OLD_SECRET = "ls-whsec-0a1b2c3d4e5f6071";

const order = JSON.stringify({
  meta: { event_name: "order_created", custom_data: { customer_id: 25 }, test_mode: true, webhook_id: "c2a5ca4b-5a3e-4f2c-b9d2-3a6a5f2a6b1c" },
  data: {
    type: "orders",
    id: "1",
    attributes: {
      store_id: 1,
      customer_id: 1,
      identifier: "104e18a2-d755-4d4b-80c4-a6c1dcbe1c10",
      order_number: 1,
      user_name: "Darlene Daugherty",
      user_email: "gernser@yahoo.com",
      currency: "USD",
      subtotal: 999,
      total: 999,
      status: "paid",
      created_at: "2023-11-14T22:13:10.000000Z",
    },
    links: { self: "https://api.lemonsqueezy.com/v1/orders/1" },
  },
});
const tampered = order.replace('"total":999', '"total":9');

const sign = (body = order, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");
const headers = (signature: string, eventName: string | null = "order_created") => ({
  "content-type": "application/json",
  "user-agent": "LemonSqueezy-Hookshot",
  ...(eventName === null ? {} : { "x-event-name": eventName }),
  "x-signature": signature,
});
const post = (signature = sign()) => ({ headers: headers(signature), body: order, secrets: [SECRET], now: NOW });
const meta = { eventType: "order_created", providerEventId: null, providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "order_created; event type from X-Event-Name; no identity (data.id is the order)",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "event-name-from-body": {
    description: "without X-Event-Name the event type is meta.event_name",
    request: { ...post(), headers: headers(sign(), null) },
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: tampered },
    expected: { valid: false, errorContains: "lemon-squeezy signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(sign(order, OLD_SECRET)),
    expected: { valid: false, errorContains: "lemon-squeezy signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Signature header",
    request: { ...post(), headers: without(headers(sign()), "x-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-signature" },
  },
  "malformed-signature": {
    description: "a base64 signature instead of hex",
    request: post(Buffer.from(sign(), "hex").toString("base64")),
    expected: { valid: false, errorContains: "lemon-squeezy signature header malformed" },
  },
};

writeVectors("lemon-squeezy", vectors);
