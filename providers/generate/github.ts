// GitHub vectors: signed with @octokit/webhooks-methods' own sign() and checked with its verify().
// Run: npx tsx providers/generate/github.ts
import { sign, verify } from "@octokit/webhooks-methods";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "gh-webhook-9f2c41d7a6b84e05b1c3";
const OLD_SECRET = "gh-webhook-0a1b2c3d4e5f60718293";
const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

const push = JSON.stringify({
  ref: "refs/heads/main",
  before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  after: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
  repository: { id: 35129377, node_id: "MDEwOlJlcG9zaXRvcnkzNTEyOTM3Nw==", name: "knocker", full_name: "acme/knocker", private: false },
  pusher: { name: "octocat", email: "octocat@github.com" },
  sender: { login: "octocat", id: 583231, type: "User" },
  created: false, deleted: false, forced: false,
  head_commit: { id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", message: "Retry deliveries with backoff", timestamp: "2023-11-14T23:13:17+01:00" },
});
const ping = JSON.stringify({
  zen: "Design for failure.",
  hook_id: 447885512,
  hook: { type: "Repository", id: 447885512, name: "web", active: true, events: ["push"], config: { content_type: "json", insecure_ssl: "0", url: "https://hooks.example.com/webhooks/github" } },
  repository: { id: 35129377, name: "knocker", full_name: "acme/knocker" },
  sender: { login: "octocat", id: 583231, type: "User" },
});

const headers = async (body: string, event: string, secret = SECRET, delivery = DELIVERY) => ({
  "content-type": "application/json",
  "user-agent": "GitHub-Hookshot/a1b2c3d",
  "x-github-event": event,
  "x-github-delivery": delivery,
  "x-github-hook-id": "447885512",
  "x-hub-signature-256": await sign(secret, body),
});
const post = async (body = push, event = "push", secret = SECRET) => ({ headers: await headers(body, event, secret), body, secrets: [SECRET], now: NOW });
const meta = { eventType: "push", providerEventId: null, providerDeliveryId: DELIVERY };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "push; event type from X-GitHub-Event, identity is X-GitHub-Delivery (kept on redelivery)",
    request: await post(),
    expected: { valid: true, ...meta },
  },
  "ping": {
    description: "ping is an ordinary event",
    request: await post(ping, "ping"),
    expected: { valid: true, eventType: "ping", providerEventId: null, providerDeliveryId: DELIVERY },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...(await post()), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...(await post()), body: push.replace("main", "mainx") },
    expected: { valid: false, errorContains: "github signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: await post(push, "push", OLD_SECRET),
    expected: { valid: false, errorContains: "github signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Hub-Signature-256 header (e.g. only the legacy SHA-1 X-Hub-Signature)",
    request: { ...(await post()), headers: { ...without(await headers(push, "push"), "x-hub-signature-256"), "x-hub-signature": "sha1=0000000000000000000000000000000000000000" } },
    expected: { valid: false, errorContains: "missing signature header: x-hub-signature-256" },
  },
  "malformed-signature": {
    description: "signature without the sha256= prefix",
    request: { ...(await post()), headers: { ...(await headers(push, "push")), "x-hub-signature-256": (await sign(SECRET, push)).slice(7) } },
    expected: { valid: false, errorContains: "github signature header malformed" },
  },
};

assertOracle("github", "valid", await verify(SECRET, push, await sign(SECRET, push)));
assertOracle("github", "tampered-body", !(await verify(SECRET, push.replace("main", "mainx"), await sign(SECRET, push))));
assertOracle("github", "wrong-secret", !(await verify(SECRET, push, await sign(OLD_SECRET, push))));

writeVectors("github", vectors);
