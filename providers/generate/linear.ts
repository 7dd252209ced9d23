// Linear vectors: HMAC-SHA256 hex of the body, signed with node:crypto per Linear's docs and
// checked with @linear/sdk's LinearWebhookClient.verify (clock pinned to each vector's `now`).
// Run: npx tsx providers/generate/linear.ts
import { createHmac } from "node:crypto";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { assertOracle, atClock, passes, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "lin_wh_9f2c41d7a6b84e05b1c3d8e2f7a90b6c";
const OLD_SECRET = "lin_wh_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const DELIVERY = "3f5b8c2e-7d41-4a9e-b6c0-1e2d3f4a5b6c";

function issueCreate(webhookTimestamp: number): string {
  return JSON.stringify({
    action: "create",
    actor: { id: "5e1a7c3b-2d4f-4b8a-9c6e-0f1d2e3a4b5c", name: "Ada Lovelace", type: "user" },
    createdAt: "2023-11-14T22:13:19.512Z",
    data: {
      id: "8c4d2a1f-6b3e-4f5a-a7c9-2e1d0b3c4a5f",
      identifier: "ENG-142",
      title: "Retry webhook deliveries with backoff",
      priority: 2,
      teamId: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
      stateId: "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a",
      createdAt: "2023-11-14T22:13:19.512Z",
    },
    url: "https://linear.app/acme/issue/ENG-142/retry-webhook-deliveries-with-backoff",
    type: "Issue",
    organizationId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    webhookTimestamp,
    webhookId: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
  });
}

const commentUpdate = JSON.stringify({
  action: "update",
  createdAt: "2023-11-14T22:13:20.004Z",
  data: { id: "4b5c6d7e-8f90-4a1b-2c3d-4e5f6a7b8c9d", body: "Shipped in v0.4", issueId: "8c4d2a1f-6b3e-4f5a-a7c9-2e1d0b3c4a5f" },
  updatedFrom: { body: "Shipping in v0.4", updatedAt: "2023-11-14T22:10:02.117Z" },
  url: "https://linear.app/acme/issue/ENG-142#comment-4b5c6d7e",
  type: "Comment",
  organizationId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
  webhookTimestamp: NOW * 1000 + 250,
  webhookId: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
});

const sign = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");
const headers = (body: string, secret: string, event = "Issue") => ({
  "content-type": "application/json; charset=utf-8",
  "user-agent": "Linear-Webhook",
  "linear-delivery": DELIVERY,
  "linear-event": event,
  "linear-signature": sign(secret, body),
});
const oracle = (secret: string, body: string, signature: string) =>
  atClock(NOW, () => passes(() => new LinearWebhookClient(secret).verify(Buffer.from(body), signature)));

const body = issueCreate(NOW * 1000 - 1200);
const meta = { eventType: "Issue.create", providerEventId: null, providerDeliveryId: DELIVERY };
const expired = issueCreate((NOW - 61) * 1000);
const future = issueCreate((NOW + 61) * 1000);
const tampered = body.replace("ENG-142", "ENG-143");

const vectors: Record<string, Vector> = {
  "valid": {
    description: "Issue.create signed with the webhook secret; identity is the Linear-Delivery header",
    request: { headers: headers(body, SECRET), body, secrets: [SECRET], now: NOW },
    expected: { valid: true, ...meta },
  },
  "comment-update": {
    description: "Comment.update: event type is type + '.' + action",
    request: { headers: headers(commentUpdate, SECRET, "Comment"), body: commentUpdate, secrets: [SECRET], now: NOW },
    expected: { valid: true, eventType: "Comment.update", providerEventId: null, providerDeliveryId: DELIVERY },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { headers: headers(body, SECRET), body, secrets: [OLD_SECRET, SECRET], now: NOW },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { headers: headers(body, SECRET), body: tampered, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "linear signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: { headers: headers(body, OLD_SECRET), body, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "linear signature mismatch" },
  },
  "missing-signature-header": {
    description: "no Linear-Signature header; metadata is still extracted",
    request: { headers: without(headers(body, SECRET), "linear-signature"), body, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "missing signature header: linear-signature" },
  },
  "malformed-signature": {
    description: "Linear-Signature is not hex",
    request: { headers: { ...headers(body, SECRET), "linear-signature": "sha256=zz" }, body, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "linear signature header malformed" },
  },
  "expired-timestamp": {
    description: "webhookTimestamp 61 s in the past (tolerance 60 s)",
    request: { headers: headers(expired, SECRET), body: expired, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "linear signature timestamp outside tolerance" },
  },
  "future-timestamp": {
    description: "webhookTimestamp 61 s in the future (tolerance 60 s)",
    request: { headers: headers(future, SECRET), body: future, secrets: [SECRET], now: NOW },
    expected: { valid: false, errorContains: "linear signature timestamp outside tolerance" },
  },
  "custom-tolerance": {
    description: "toleranceS 120 accepts a 61 s old webhookTimestamp",
    request: { headers: headers(expired, SECRET), body: expired, secrets: [SECRET], options: { toleranceS: 120 }, now: NOW },
    expected: { valid: true, ...meta },
  },
};

assertOracle("linear", "valid", oracle(SECRET, body, sign(SECRET, body)));
assertOracle("linear", "comment-update", oracle(SECRET, commentUpdate, sign(SECRET, commentUpdate)));
assertOracle("linear", "tampered-body", !oracle(SECRET, tampered, sign(SECRET, body)));
assertOracle("linear", "wrong-secret", !oracle(SECRET, body, sign(OLD_SECRET, body)));
assertOracle("linear", "expired-timestamp", !oracle(SECRET, expired, sign(SECRET, expired)));
assertOracle("linear", "future-timestamp", !oracle(SECRET, future, sign(SECRET, future)));

writeVectors("linear", vectors);
