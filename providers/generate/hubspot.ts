// HubSpot vectors: signed with @hubspot/api-client@13.5.0's own Signature.getSignature (v3, and
// the legacy v1/v2) and checked with Signature.isValid (clock pinned to each vector's `now`).
// Run: npx tsx providers/generate/hubspot.ts
import { Signature } from "@hubspot/api-client";
import { assertOracle, atClock, passes, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const CLIENT_SECRET = "9c1d7e4a-3b2f-4a6e-8d5c-7f0e1a2b3c4d";
const OLD_SECRET = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const URL = "https://hooks.example.com/webhooks/hubspot";
const TIMESTAMP_MS = NOW * 1000 - 1850;

const batch = JSON.stringify([
  {
    eventId: 1939183417, subscriptionId: 2413855, portalId: 62515, appId: 1160452, occurredAt: 1699999997411,
    subscriptionType: "contact.propertyChange", attemptNumber: 0, objectId: 512, propertyName: "lifecyclestage",
    propertyValue: "customer", changeSource: "CRM_UI", sourceId: "userId:7714093",
  },
  {
    eventId: 1939183418, subscriptionId: 2413856, portalId: 62515, appId: 1160452, occurredAt: 1699999997502,
    subscriptionType: "deal.creation", attemptNumber: 0, objectId: 8841, changeFlag: "CREATED", changeSource: "CRM_UI", sourceId: "userId:7714093",
  },
]);
const creation = JSON.stringify([
  { eventId: 3817264455, subscriptionId: 2413850, portalId: 62515, appId: 1160452, occurredAt: 1699999990001, subscriptionType: "contact.creation", attemptNumber: 0, objectId: 513, changeFlag: "NEW", changeSource: "FORM", sourceId: "form:0f1e2d3c" },
]);

const v3 = (body: string, secret = CLIENT_SECRET, timestampMs = TIMESTAMP_MS, url = URL) =>
  Signature.getSignature("POST", "v3", { signature: "", clientSecret: secret, requestBody: body, url, timestamp: timestampMs });
const headers = (body: string, secret = CLIENT_SECRET, timestampMs = TIMESTAMP_MS) => ({
  "content-type": "application/json",
  "user-agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon",
  "x-hubspot-request-timestamp": String(timestampMs),
  "x-hubspot-signature-v3": v3(body, secret, timestampMs),
});
const legacy = (version: "v1" | "v2", body: string, secret = CLIENT_SECRET) => ({
  "content-type": "application/json",
  "x-hubspot-signature-version": version,
  "x-hubspot-signature": Signature.getSignature("POST", version, { signature: "", clientSecret: secret, requestBody: body, url: URL }),
});
const options = { url: URL };
const post = (body: string, secret = CLIENT_SECRET, timestampMs = TIMESTAMP_MS) =>
  ({ headers: headers(body, secret, timestampMs), body, secrets: [CLIENT_SECRET], options, now: NOW });
const meta = { eventType: "contact.propertyChange", providerEventId: "1939183417", providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "v3 batch of two events: event type and identity come from the first element",
    request: post(batch),
    expected: { valid: true, ...meta },
  },
  "contact-creation": {
    description: "v3 single-event batch",
    request: post(creation),
    expected: { valid: true, eventType: "contact.creation", providerEventId: "3817264455", providerDeliveryId: null },
  },
  "rotation-second-secret": {
    description: "signed with the second configured client secret",
    request: { ...post(batch), secrets: [OLD_SECRET, CLIENT_SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(batch), body: batch.replace("customer", "lead") },
    expected: { valid: false, errorContains: "hubspot signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another client secret",
    request: post(batch, OLD_SECRET),
    expected: { valid: false, errorContains: "hubspot signature mismatch" },
  },
  "wrong-url": {
    description: "signed for another URL than the configured one",
    request: { ...post(batch), headers: { ...headers(batch), "x-hubspot-signature-v3": v3(batch, CLIENT_SECRET, TIMESTAMP_MS, "https://hooks.example.com/other") } },
    expected: { valid: false, errorContains: "hubspot signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-HubSpot-Signature-v3 (and no legacy signature)",
    request: { ...post(batch), headers: without(headers(batch), "x-hubspot-signature-v3") },
    expected: { valid: false, errorContains: "missing signature header: x-hubspot-signature-v3" },
  },
  "missing-timestamp-header": {
    description: "no X-HubSpot-Request-Timestamp",
    request: { ...post(batch), headers: without(headers(batch), "x-hubspot-request-timestamp") },
    expected: { valid: false, errorContains: "missing signature header: x-hubspot-request-timestamp" },
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(batch, CLIENT_SECRET, (NOW - 301) * 1000),
    expected: { valid: false, errorContains: "hubspot signature timestamp outside tolerance" },
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s)",
    request: post(batch, CLIENT_SECRET, (NOW + 301) * 1000),
    expected: { valid: false, errorContains: "hubspot signature timestamp outside tolerance" },
  },
  "legacy-v1": {
    description: "no v3 header; X-HubSpot-Signature-Version v1: hex SHA-256 of secret + body",
    request: { headers: legacy("v1", batch), body: batch, secrets: [CLIENT_SECRET], options, now: NOW },
    expected: { valid: true, ...meta },
  },
  "legacy-v2": {
    description: "no v3 header; X-HubSpot-Signature-Version v2: hex SHA-256 of secret + method + url + body",
    request: { headers: legacy("v2", batch), body: batch, secrets: [CLIENT_SECRET], options, now: NOW },
    expected: { valid: true, ...meta },
  },
  "legacy-v1-tampered-body": {
    description: "legacy v1 signature over another body",
    request: { headers: legacy("v1", batch), body: creation, secrets: [CLIENT_SECRET], options, now: NOW },
    expected: { valid: false, errorContains: "hubspot v1 signature mismatch" },
  },
};

const check = (name: string, version: "v1" | "v2" | "v3", body: string, signature: string, timestamp: number, expected: boolean) =>
  assertOracle("hubspot", name, expected === atClock(NOW, () => passes(() =>
    Signature.isValid({ signatureVersion: version, signature, clientSecret: CLIENT_SECRET, requestBody: body, url: URL, method: "POST", timestamp }))));
check("valid", "v3", batch, v3(batch), TIMESTAMP_MS, true);
check("tampered-body", "v3", batch.replace("customer", "lead"), v3(batch), TIMESTAMP_MS, false);
check("wrong-secret", "v3", batch, v3(batch, OLD_SECRET), TIMESTAMP_MS, false);
check("expired-timestamp", "v3", batch, v3(batch, CLIENT_SECRET, (NOW - 301) * 1000), (NOW - 301) * 1000, false);
check("legacy-v1", "v1", batch, legacy("v1", batch)["x-hubspot-signature"], 0, true);
check("legacy-v2", "v2", batch, legacy("v2", batch)["x-hubspot-signature"], 0, true);

writeVectors("hubspot", vectors);
