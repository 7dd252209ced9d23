// Zendesk vectors: base64(HMAC-SHA256(timestamp + body)) with an ISO-8601 timestamp, signed with
// node:crypto per Zendesk's "Verifying webhook authenticity" (Zendesk ships no Node verifier).
// Run: npx tsx providers/generate/zendesk.ts
import { createHmac } from "node:crypto";
import { without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "dGhpcy1pcy1hLXplbmRlc2stc2lnbmluZy1zZWNyZXQ";
const OLD_SECRET = "b2xkLXplbmRlc2stc2lnbmluZy1zZWNyZXQtMjAyMw";
const INVOCATION = "01HFA3K9Q8ZJ5N2W7XR4T6YB1C";
const iso = (unix: number) => new Date(unix * 1000).toISOString().replace(".000Z", "Z");

const userEvent = JSON.stringify({
  type: "zen:event-type:user.active_changed",
  account_id: 12514403,
  id: "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
  time: "2023-11-14T22:13:18Z",
  zendesk_event_version: "2022-06-20",
  subject: "zen:user:6596848315901",
  detail: {
    created_at: "2023-11-14T22:10:58Z", email: "sheena@example.com", external_id: "", default_group_id: "0",
    id: "6596848315901", organization_id: "0", role: "end-user", updated_at: "2023-11-14T22:13:18Z",
  },
  event: { current: false, previous: true },
});
// A trigger/automation webhook: the body is whatever JSON the admin wrote; here it names the ticket.
const triggerPayload = JSON.stringify({ ticket_id: "35436", id: "35436", status: "open", subject: "Printer on fire", requester_email: "sheena@example.com" });

const signature = (secret: string, timestamp: string, body: string) =>
  createHmac("sha256", secret).update(timestamp + body).digest("base64");
const headers = (body: string, secret = SECRET, timestamp = iso(NOW - 3)) => ({
  "content-type": "application/json; charset=utf-8",
  "user-agent": "Zendesk Webhook",
  "x-zendesk-account-id": "12514403",
  "x-zendesk-webhook-id": "01GK8E6BKWMJZD2T8Y5AXJQMG5",
  "x-zendesk-webhook-invocation-id": INVOCATION,
  "x-zendesk-webhook-signature-timestamp": timestamp,
  "x-zendesk-webhook-signature": signature(secret, timestamp, body),
});
const post = (body: string, secret = SECRET, timestamp?: string) => ({ headers: headers(body, secret, timestamp), body, secrets: [SECRET], now: NOW });
const meta = {
  eventType: "zen:event-type:user.active_changed",
  providerEventId: "2b24ef10-19d4-4740-93cf-8f98ec4776c0",
  providerDeliveryId: INVOCATION,
};

const vectors: Record<string, Vector> = {
  "valid": {
    description: "event-subscription payload: identity is body id (not detail.id), delivery id is the invocation id",
    request: post(userEvent),
    expected: { valid: true, ...meta },
  },
  "trigger-payload": {
    description: "trigger webhook with a custom body: its id is the ticket id, so no event id is taken; dedupe falls back to the invocation id",
    request: post(triggerPayload),
    expected: { valid: true, eventType: null, providerEventId: null, providerDeliveryId: INVOCATION },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(userEvent), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(userEvent), body: userEvent.replace("end-user", "admin") },
    expected: { valid: false, errorContains: "zendesk signature mismatch" },
  },
  "tampered-timestamp": {
    description: "timestamp header changed after signing",
    request: { ...post(userEvent), headers: { ...headers(userEvent), "x-zendesk-webhook-signature-timestamp": iso(NOW - 2) } },
    expected: { valid: false, errorContains: "zendesk signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(userEvent, OLD_SECRET),
    expected: { valid: false, errorContains: "zendesk signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Zendesk-Webhook-Signature header",
    request: { ...post(userEvent), headers: without(headers(userEvent), "x-zendesk-webhook-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-zendesk-webhook-signature" },
  },
  "missing-timestamp-header": {
    description: "no X-Zendesk-Webhook-Signature-Timestamp header",
    request: { ...post(userEvent), headers: without(headers(userEvent), "x-zendesk-webhook-signature-timestamp") },
    expected: { valid: false, errorContains: "missing signature header: x-zendesk-webhook-signature-timestamp" },
  },
  "malformed-timestamp": {
    description: "a unix timestamp instead of ISO-8601",
    request: post(userEvent, SECRET, String(NOW)),
    expected: { valid: false, errorContains: "zendesk signature timestamp malformed" },
  },
  "malformed-signature": {
    description: "signature header is hex, not base64",
    request: { ...post(userEvent), headers: { ...headers(userEvent), "x-zendesk-webhook-signature": "9f86d081884c7d65!" } },
    expected: { valid: false, errorContains: "zendesk signature header malformed" },
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(userEvent, SECRET, iso(NOW - 301)),
    expected: { valid: false, errorContains: "zendesk signature timestamp outside tolerance" },
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s)",
    request: post(userEvent, SECRET, iso(NOW + 301)),
    expected: { valid: false, errorContains: "zendesk signature timestamp outside tolerance" },
  },
  "fractional-offset-timestamp": {
    description: "ISO-8601 with milliseconds and a UTC offset is accepted",
    request: post(userEvent, SECRET, "2023-11-14T23:13:17.250+01:00"),
    expected: { valid: true, ...meta },
  },
};

writeVectors("zendesk", vectors);
