// Meta vectors: `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256 of the body with the app secret),
// signed with node:crypto per Meta's Webhooks docs (Meta publishes no Node verifier), plus the
// GET subscription handshake. Run: npx tsx providers/generate/meta.ts
import { createHmac } from "node:crypto";
import { without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const APP_SECRET = "3c9a7e21f4b86d05e1a2b3c4d5e6f708";
const OLD_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const VERIFY_TOKEN = "knocker-meta-verify-7Qm2";

const whatsapp = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{
    id: "102290129340398",
    changes: [{
      value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
        contacts: [{ profile: { name: "Sheena Nelson" }, wa_id: "16505551234" }],
        messages: [{
          from: "16505551234",
          id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
          timestamp: "1699999990",
          text: { body: "Does it come in another color?" },
          type: "text",
        }],
      },
      field: "messages",
    }],
  }],
});
const page = JSON.stringify({
  object: "page",
  entry: [{
    id: "108464485257491",
    time: 1699999995,
    changes: [{ field: "feed", value: { item: "comment", verb: "add", post_id: "108464485257491_122112345678", comment_id: "122112345678_987654321", message: "Great launch!", created_time: 1699999994 } }],
  }],
});

const sign = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
const headers = (body: string, secret: string) => ({
  "content-type": "application/json",
  "user-agent": "facebookexternalua",
  "x-hub-signature-256": sign(secret, body),
});
const handshakeQuery = (token: string) => ({ "hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444" });
const post = (body: string, secret = APP_SECRET) => ({ headers: headers(body, secret), body, secrets: [APP_SECRET], now: NOW });
const waMeta = { eventType: "whatsapp_business_account", providerEventId: null, providerDeliveryId: null };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "WhatsApp Cloud API message notification; event type is body object, no identity is sent",
    request: post(whatsapp),
    expected: { valid: true, ...waMeta },
  },
  "page-feed": {
    description: "Facebook Page feed change",
    request: post(page),
    expected: { valid: true, eventType: "page", providerEventId: null, providerDeliveryId: null },
  },
  "rotation-second-secret": {
    description: "signed with the second configured app secret",
    request: { ...post(whatsapp), secrets: [OLD_SECRET, APP_SECRET] },
    expected: { valid: true, ...waMeta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(whatsapp), body: whatsapp.replace("another color", "another colour") },
    expected: { valid: false, errorContains: "meta signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another app secret",
    request: post(whatsapp, OLD_SECRET),
    expected: { valid: false, errorContains: "meta signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Hub-Signature-256 header",
    request: { ...post(whatsapp), headers: without(headers(whatsapp, APP_SECRET), "x-hub-signature-256") },
    expected: { valid: false, errorContains: "missing signature header: x-hub-signature-256" },
  },
  "malformed-signature": {
    description: "signature without the sha256= prefix",
    request: { ...post(whatsapp), headers: { ...headers(whatsapp, APP_SECRET), "x-hub-signature-256": sign(APP_SECRET, whatsapp).slice(7) } },
    expected: { valid: false, errorContains: "meta signature header malformed" },
  },
  "handshake-verify": {
    description: "GET subscription handshake with the right verify token: 200 with the challenge as text/plain",
    request: { method: "GET", headers: { "user-agent": "facebookplatform/1.0" }, query: handshakeQuery(VERIFY_TOKEN), body: "", secrets: [APP_SECRET], options: { verifyToken: VERIFY_TOKEN }, now: NOW },
    expected: { valid: true, statusCode: 200, reply: { contentType: "text/plain", body: "1158201444" } },
  },
  "handshake-wrong-token": {
    description: "GET subscription handshake with another verify token: refused with 403",
    request: { method: "GET", headers: { "user-agent": "facebookplatform/1.0" }, query: handshakeQuery("guessed-token"), body: "", secrets: [APP_SECRET], options: { verifyToken: VERIFY_TOKEN }, now: NOW },
    expected: { valid: false, statusCode: 403, errorContains: "meta handshake refused: hub.verify_token mismatch" },
  },
  "handshake-without-verify-token-option": {
    description: "GET subscription handshake on an endpoint configured without verifyToken: refused with 403",
    request: { method: "GET", headers: {}, query: handshakeQuery(VERIFY_TOKEN), body: "", secrets: [APP_SECRET], now: NOW },
    expected: { valid: false, statusCode: 403, errorContains: "meta handshake refused: the verifyToken option is not configured" },
  },
};

writeVectors("meta", vectors);
