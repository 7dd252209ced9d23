// Intercom vectors: `X-Hub-Signature: sha1=<hex>` (HMAC-SHA1 of the body with the client secret),
// signed with node:crypto per Intercom's webhook docs (Intercom's Node client has no verifier).
// Run: npx tsx providers/generate/intercom.ts
import { createHmac } from "node:crypto";
import { without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "8b1f3a6c-2d4e-4f70-9a81-b2c3d4e5f607";
const OLD_SECRET = "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b";

const conversation = JSON.stringify({
  type: "notification_event",
  app_id: "a1b2c3d4",
  data: {
    type: "notification_event_data",
    item: {
      type: "conversation", id: "147852369014", created_at: 1699999990, updated_at: 1699999995, state: "open",
      source: { type: "conversation", id: "2083917493", delivered_as: "customer_initiated", body: "<p>Is the API down?</p>", author: { type: "user", id: "655b9c0e5e5d8a1f2c3b4a59", name: "Sheena Nelson" } },
    },
  },
  links: {},
  id: "notif_7d2c9a6e-1b4f-4c3a-8e5d-0f1a2b3c4d5e",
  topic: "conversation.user.created",
  delivery_status: "pending",
  delivery_attempts: 1,
  delivered_at: 0,
  first_sent_at: 1699999996,
  created_at: 1699999995,
  self: null,
});
const ping = JSON.stringify({
  type: "notification_event",
  app_id: "a1b2c3d4",
  data: { type: "notification_event_data", item: { type: "ping", message: "something something interzen" } },
  links: {},
  id: null,
  topic: "ping",
  delivery_status: null,
  delivery_attempts: 1,
  delivered_at: 0,
  first_sent_at: 1699999996,
  created_at: 1699999996,
  self: null,
});

const sign = (secret: string, body: string) => `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`;
const headers = (body: string, secret = SECRET) => ({
  "content-type": "application/json",
  "user-agent": "Intercom-Webhooks-Bot/2.0",
  "x-hub-signature": sign(secret, body),
});
const post = (body: string, secret = SECRET) => ({ headers: headers(body, secret), body, secrets: [SECRET], now: NOW });
const meta = { eventType: "conversation.user.created", providerEventId: "notif_7d2c9a6e-1b4f-4c3a-8e5d-0f1a2b3c4d5e", providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "conversation.user.created: event type is topic, identity is the notification id (not the conversation id)",
    request: post(conversation),
    expected: { valid: true, ...meta },
  },
  "ping": {
    description: "the dashboard's test ping: an ordinary event without an id",
    request: post(ping),
    expected: { valid: true, eventType: "ping", providerEventId: null, providerDeliveryId: null },
  },
  "rotation-second-secret": {
    description: "signed with the second configured client secret",
    request: { ...post(conversation), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(conversation), body: conversation.replace("Is the API down?", "Is the API up?") },
    expected: { valid: false, errorContains: "intercom signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another client secret",
    request: post(conversation, OLD_SECRET),
    expected: { valid: false, errorContains: "intercom signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Hub-Signature header",
    request: { ...post(conversation), headers: without(headers(conversation), "x-hub-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-hub-signature" },
  },
  "sha256-prefix": {
    description: "a sha256= signature is not Intercom's scheme",
    request: { ...post(conversation), headers: { ...headers(conversation), "x-hub-signature": `sha256=${createHmac("sha256", SECRET).update(conversation).digest("hex")}` } },
    expected: { valid: false, errorContains: "intercom signature header malformed" },
  },
};

writeVectors("intercom", vectors);
