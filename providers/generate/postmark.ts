// Postmark vectors: no signature — `Authorization: Basic base64(user:pass)` (from the webhook
// URL's credentials) equals one of the secrets. Postmark publishes no package that signs or
// verifies webhooks, so the header is built the way an HTTP client builds it from the URL.
// Run: npx tsx providers/generate/postmark.ts
import { without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const CREDENTIALS = "postmark-hooks:Tq8vX2pLm4Rz";
const OLD_CREDENTIALS = "postmark-hooks:old-2023-pass";
// What fetch()/curl send for https://postmark-hooks:Tq8vX2pLm4Rz@hooks.example.com/webhooks/postmark
const url = new URL(`https://${CREDENTIALS}@hooks.example.com/webhooks/postmark`);
const basic = (credentials = `${url.username}:${url.password}`) => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;

const delivery = JSON.stringify({
  RecordType: "Delivery",
  ServerID: 23,
  MessageStream: "outbound",
  MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
  Recipient: "john@example.com",
  Tag: "welcome-email",
  DeliveredAt: "2023-11-14T22:13:15Z",
  Details: "Test delivery webhook details",
  Metadata: { a_key: "a_value" },
});
const open = JSON.stringify({
  RecordType: "Open",
  MessageStream: "outbound",
  FirstOpen: true,
  Client: { Name: "Chrome 35.0.1916.153", Company: "Google", Family: "Chrome" },
  OS: { Name: "OS X 10.7 Lion", Company: "Apple Computer, Inc.", Family: "OS X 10" },
  Platform: "WebMail",
  UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36",
  ReadSeconds: 5,
  MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
  ReceivedAt: "2023-11-14T22:13:17Z",
  Tag: "welcome-email",
  Recipient: "john@example.com",
});

const headers = (authorization = basic()) => ({ "content-type": "application/json", "user-agent": "Postmark", authorization });
const post = (authorization = basic(), body = delivery) => ({ headers: headers(authorization), body, secrets: [CREDENTIALS], now: NOW });
const meta = { eventType: "Delivery", providerEventId: null, providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "Delivery webhook with the URL's basic-auth credentials; no identity (MessageID is the message, not the event)",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "open-same-message": {
    description: "an Open event for the same MessageID: its own event type, still no identity",
    request: post(basic(), open),
    expected: { valid: true, eventType: "Open", providerEventId: null, providerDeliveryId: null },
  },
  "rotation-second-secret": {
    description: "credentials equal the second configured secret",
    request: { ...post(), secrets: [OLD_CREDENTIALS, CREDENTIALS] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "basic auth does not protect the body: a changed body with the right credentials is accepted",
    request: { ...post(), body: delivery.replace("john@", "jane@") },
    expected: { valid: true, ...meta },
  },
  "wrong-secret": {
    description: "another password",
    request: post(basic(OLD_CREDENTIALS)),
    expected: { valid: false, errorContains: "postmark credentials mismatch" },
  },
  "missing-signature-header": {
    description: "no Authorization header (the webhook URL has no credentials)",
    request: { ...post(), headers: without(headers(), "authorization") },
    expected: { valid: false, errorContains: "missing signature header: authorization" },
  },
  "malformed-authorization": {
    description: "Authorization with the Bearer scheme",
    request: post(`Bearer ${CREDENTIALS}`),
    expected: { valid: false, errorContains: "postmark authorization header malformed" },
  },
};

writeVectors("postmark", vectors);
