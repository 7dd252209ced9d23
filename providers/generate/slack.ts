// Slack vectors: signed with node:crypto following Slack's published algorithm (the official
// package, @slack/bolt, only verifies) and checked with bolt's own isValidSlackRequest()
// (nowMilliseconds pinned to each vector's `now`).
// Run: npx tsx providers/generate/slack.ts
import { createHmac } from "node:crypto";
import { isValidSlackRequest } from "@slack/bolt";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const OLD_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

const mention = JSON.stringify({
  token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
  team_id: "T0001",
  api_app_id: "A0KRD7HC3",
  event: {
    type: "app_mention",
    user: "U061F7AUR",
    text: "<@U0LAN0Z89> is it everything a river should be?",
    ts: "1699999997.000200",
    channel: "C0LAN2Q65",
    event_ts: "1699999997.000200",
  },
  type: "event_callback",
  event_id: "Ev0LAN670R",
  event_time: 1699999997,
  authorizations: [{ team_id: "T0001", user_id: "U0LAN0Z89", is_bot: true }],
});
const challenge = JSON.stringify({
  token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
  challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
  type: "url_verification",
});
const blockActions = `payload=${encodeURIComponent(JSON.stringify({
  type: "block_actions",
  user: { id: "U061F7AUR", username: "jane", team_id: "T0001" },
  api_app_id: "A0KRD7HC3",
  trigger_id: "4865162393585.1234.abcdef",
  team: { id: "T0001", domain: "acme" },
  channel: { id: "C0LAN2Q65", name: "general" },
  actions: [{ action_id: "approve", block_id: "b1", type: "button", value: "approve_42", action_ts: "1699999998.123" }],
}))}`;
const slashCommand = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=acme&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=%2Fweather&text=94070&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0";

const sign = (body: string, timestamp = NOW - 2, secret = SECRET) =>
  `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
const headers = (signature: string, timestamp = NOW - 2, contentType = "application/json") => ({
  "content-type": contentType,
  "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
  "x-slack-request-timestamp": String(timestamp),
  "x-slack-signature": signature,
});
const post = (body = mention, signature = sign(body), timestamp = NOW - 2, contentType = "application/json") =>
  ({ headers: headers(signature, timestamp, contentType), body, secrets: [SECRET], now: NOW });
const meta = { eventType: "app_mention", providerEventId: "Ev0LAN670R", providerDeliveryId: null };
const tampered = mention.replace("river", "rivet");
const FORM = "application/x-www-form-urlencoded";

const vectors: Record<string, Vector> = {
  "valid": {
    description: "Events API app_mention; event type is event.type, identity body event_id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "url-verification": {
    description: "url_verification handshake: answered with the challenge as text/plain, no event",
    request: post(challenge),
    expected: { valid: true, eventType: "url_verification", providerEventId: null, reply: { contentType: "text/plain", body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" } },
  },
  "url-verification-bad-signature": {
    description: "a url_verification with a wrong signature is refused, not answered",
    request: post(challenge, sign(challenge, NOW - 2, OLD_SECRET)),
    expected: { valid: false, errorContains: "slack signature mismatch" },
  },
  "interactive-form-post": {
    description: "interactivity form post: event type from the payload= JSON's type; no identity",
    request: post(blockActions, sign(blockActions), NOW - 2, FORM),
    expected: { valid: true, eventType: "block_actions", providerEventId: null },
  },
  "slash-command": {
    description: "slash command form post without payload=: verified, no event type or identity",
    request: post(slashCommand, sign(slashCommand), NOW - 2, FORM),
    expected: { valid: true, eventType: null, providerEventId: null },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: tampered },
    expected: { valid: false, errorContains: "slack signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(mention, sign(mention, NOW - 2, OLD_SECRET)),
    expected: { valid: false, errorContains: "slack signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Slack-Signature header",
    request: { ...post(), headers: without(headers(sign(mention)), "x-slack-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-slack-signature" },
  },
  "missing-timestamp-header": {
    description: "no X-Slack-Request-Timestamp header",
    request: { ...post(), headers: without(headers(sign(mention)), "x-slack-request-timestamp") },
    expected: { valid: false, errorContains: "missing signature header: x-slack-request-timestamp" },
  },
  "malformed-signature": {
    description: "signature without the v0= prefix",
    request: post(mention, sign(mention).slice(3)),
    expected: { valid: false, errorContains: "slack signature header malformed" },
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(mention, sign(mention, NOW - 301), NOW - 301),
    expected: { valid: false, errorContains: "slack signature timestamp outside tolerance" },
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s; bolt only bounds the past)",
    request: post(mention, sign(mention, NOW + 301), NOW + 301),
    expected: { valid: false, errorContains: "slack signature timestamp outside tolerance" },
  },
};

const bolt = (body: string, signature: string, timestamp = NOW - 2) => isValidSlackRequest({
  signingSecret: SECRET,
  body,
  headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
  nowMilliseconds: NOW * 1000,
});
assertOracle("slack", "valid", bolt(mention, sign(mention)));
assertOracle("slack", "url-verification", bolt(challenge, sign(challenge)));
assertOracle("slack", "interactive-form-post", bolt(blockActions, sign(blockActions)));
assertOracle("slack", "slash-command", bolt(slashCommand, sign(slashCommand)));
assertOracle("slack", "tampered-body", !bolt(tampered, sign(mention)));
assertOracle("slack", "wrong-secret", !bolt(mention, sign(mention, NOW - 2, OLD_SECRET)));
assertOracle("slack", "expired-timestamp", !bolt(mention, sign(mention, NOW - 301), NOW - 301));

writeVectors("slack", vectors);
