// Discord vectors: Ed25519 over `X-Signature-Timestamp + body`, signed with node:crypto from fixed
// seeds (so regenerating gives the same files) and checked with discord-interactions' verifyKey.
// Run: npx tsx providers/generate/discord.ts
import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { verifyKey } from "discord-interactions";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const TIMESTAMP = String(NOW - 2);

function keyPair(seedByte: number): { privateKey: KeyObject; publicKeyHex: string } {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, seedByte)]);
  const privateKey = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  const x = createPublicKey(privateKey).export({ format: "jwk" }).x!;
  return { privateKey, publicKeyHex: Buffer.from(x, "base64url").toString("hex") };
}
const APP = keyPair(0x4b);
const OTHER = keyPair(0x2a);

const user = { id: "80351110224678912", username: "nelly", global_name: "Nelly", avatar: "8342729096ea3675442027381ff50dfe", discriminator: "0" };
const command = JSON.stringify({
  app_permissions: "562949953601536",
  application_id: "1174771536211640320",
  channel_id: "1174771730286276638",
  context: 0,
  data: { id: "1174772316830363699", name: "status", type: 1 },
  entitlements: [],
  guild_id: "1174771730286276628",
  guild_locale: "en-US",
  id: "1175154846934585354",
  locale: "en-US",
  member: { user, roles: [], joined_at: "2023-11-16T10:02:11.000000+00:00", permissions: "562949953421311" },
  token: "aW50ZXJhY3Rpb246MTE3NTE1NDg0NjkzNDU4NTM1NDpXaG9hSXNUaGlzQVJlYWxUb2tlbj8",
  type: 2,
  version: 1,
});
const interactionPing = JSON.stringify({
  application_id: "1174771536211640320",
  id: "1175154001234567890",
  token: "aW50ZXJhY3Rpb246MTE3NTE1NDAwMTIzNDU2Nzg5MDpQaW5nUGluZ1Bpbmc",
  type: 1,
  user,
  version: 1,
});
const webhookPing = JSON.stringify({ version: 1, application_id: "1174771536211640320", type: 0 });
const webhookEvent = JSON.stringify({
  version: 1,
  application_id: "1174771536211640320",
  type: 1,
  event: {
    type: "APPLICATION_AUTHORIZED",
    timestamp: "2023-11-14T22:13:18.064834",
    data: { integration_type: 1, scopes: ["applications.commands"], user },
  },
});

const signature = (key: KeyObject, timestamp: string, body: string) => sign(null, Buffer.from(timestamp + body), key).toString("hex");
const headers = (body: string, key = APP.privateKey, timestamp = TIMESTAMP) => ({
  "content-type": "application/json",
  "user-agent": "Discord-Interactions/1.0 (+https://discord.com)",
  "x-signature-ed25519": signature(key, timestamp, body),
  "x-signature-timestamp": timestamp,
});
const post = (body: string, key = APP.privateKey) => ({ headers: headers(body, key), body, secrets: [APP.publicKeyHex], now: NOW });
const commandMeta = { eventType: "2", providerEventId: "1175154846934585354", providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "APPLICATION_COMMAND interaction: event type is body type, identity is body id",
    request: post(command),
    expected: { valid: true, ...commandMeta },
  },
  "interaction-ping": {
    description: "interaction PING (type 1): answered 200 with {\"type\":1}, no event",
    request: post(interactionPing),
    expected: { valid: true, statusCode: 200, reply: { contentType: "application/json", body: "{\"type\":1}" } },
  },
  "webhook-event": {
    description: "webhook event (type 1 with an event object): event type is event.type, no identity is sent",
    request: post(webhookEvent),
    expected: { valid: true, eventType: "APPLICATION_AUTHORIZED", providerEventId: null, providerDeliveryId: null },
  },
  "webhook-ping": {
    description: "webhook-event PING (type 0): acknowledged with 204, no event",
    request: post(webhookPing),
    expected: { valid: true, statusCode: 204 },
  },
  "rotation-second-secret": {
    description: "the second configured public key matches",
    request: { ...post(command), secrets: [OTHER.publicKeyHex, APP.publicKeyHex] },
    expected: { valid: true, ...commandMeta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(command), body: command.replace("\"status\"", "\"statue\"") },
    expected: { valid: false, errorContains: "discord signature mismatch" },
  },
  "tampered-timestamp": {
    description: "X-Signature-Timestamp changed after signing (the timestamp is part of the signed bytes)",
    request: { ...post(command), headers: { ...headers(command), "x-signature-timestamp": String(NOW - 1) } },
    expected: { valid: false, errorContains: "discord signature mismatch" },
  },
  "wrong-secret": {
    description: "signed by another key pair",
    request: post(command, OTHER.privateKey),
    expected: { valid: false, errorContains: "discord signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Signature-Ed25519 header",
    request: { ...post(command), headers: without(headers(command), "x-signature-ed25519") },
    expected: { valid: false, errorContains: "missing signature header: x-signature-ed25519" },
  },
  "missing-timestamp-header": {
    description: "no X-Signature-Timestamp header",
    request: { ...post(command), headers: without(headers(command), "x-signature-timestamp") },
    expected: { valid: false, errorContains: "missing signature header: x-signature-timestamp" },
  },
  "malformed-signature": {
    description: "X-Signature-Ed25519 is not 64 hex-encoded bytes",
    request: { ...post(command), headers: { ...headers(command), "x-signature-ed25519": "abcd" } },
    expected: { valid: false, errorContains: "discord signature header malformed" },
  },
  "unsigned-ping": {
    description: "a PING with a bad signature is rejected, not answered",
    request: { ...post(interactionPing), headers: { ...headers(interactionPing), "x-signature-ed25519": signature(OTHER.privateKey, TIMESTAMP, interactionPing) } },
    expected: { valid: false, errorContains: "discord signature mismatch" },
  },
};

for (const [name, vector] of Object.entries(vectors)) {
  const { headers: h, body, secrets } = vector.request;
  if (typeof h["x-signature-ed25519"] !== "string" || typeof h["x-signature-timestamp"] !== "string") continue;
  if (!/^[0-9a-f]{64}$/.test(secrets.at(-1)!)) continue;
  const theirs = await verifyKey(body!, h["x-signature-ed25519"], h["x-signature-timestamp"], secrets.at(-1)!);
  assertOracle("discord", name, theirs === vector.expected.valid);
}

writeVectors("discord", vectors);
