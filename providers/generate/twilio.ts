// Twilio vectors: signed with the `twilio` package's own getExpectedTwilioSignature() and checked
// with its validateRequest() / validateRequestWithBody().
// Run: npx tsx providers/generate/twilio.ts
import { createHash } from "node:crypto";
import twilio from "twilio";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const TOKEN = "12345678901234567890123456789012";
const OLD_TOKEN = "abcdefabcdefabcdefabcdefabcdef12";
const URL_SMS = "https://hooks.example.com/twilio/sms-status";
const URL_JSON = "https://hooks.example.com/twilio/events";
const IDEMPOTENCY = "AC1f2e3d4c5b6a79880f1e2d3c4b5a6978-SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b-2";

// An SMS status callback, as Twilio posts it (form-encoded).
const smsParams: Record<string, string> = {
  AccountSid: "AC1f2e3d4c5b6a79880f1e2d3c4b5a6978",
  ApiVersion: "2010-04-01",
  From: "+15017122661",
  MessageSid: "SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b",
  MessageStatus: "delivered",
  SmsSid: "SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b",
  SmsStatus: "delivered",
  To: "+15558675310",
};
const smsBody = new URLSearchParams(smsParams).toString();
const json = JSON.stringify({ EventType: "com.twilio.messaging.message.delivered", AccountSid: "AC1f2e3d4c5b6a79880f1e2d3c4b5a6978", MessageSid: "SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b" });
const jsonHash = createHash("sha256").update(json).digest("hex");

const sign = (url: string, params: Record<string, string> | null, token = TOKEN) => twilio.getExpectedTwilioSignature(token, url, params ?? {});
const formHeaders = (signature: string) => ({
  "content-type": "application/x-www-form-urlencoded",
  "user-agent": "TwilioProxy/1.1",
  "i-twilio-idempotency-token": IDEMPOTENCY,
  "x-twilio-signature": signature,
});
const post = (signature = sign(URL_SMS, smsParams), body = smsBody) =>
  ({ headers: formHeaders(signature), body, secrets: [TOKEN], options: { url: URL_SMS }, now: NOW });
const meta = { eventType: "delivered", providerEventId: IDEMPOTENCY, providerDeliveryId: null };
const tamperedBody = smsBody.replace("delivered", "failed");

const withQuery = "https://hooks.example.com/twilio/voice?tenant=acme&note=a b/c";
const voiceParams = { AccountSid: "AC1f2e3d4c5b6a79880f1e2d3c4b5a6978", CallSid: "CA5b6a79880f1e2d3c4b5a69781f2e3d4c", CallStatus: "completed", CallDuration: "42" };

const vectors: Record<string, Vector> = {
  "valid": {
    description: "SMS status callback (form post): URL + sorted params, HMAC-SHA1; identity I-Twilio-Idempotency-Token (not MessageSid)",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "query-string": {
    description: "voice status callback to a URL with a query string: option url is the base, the request's query is appended",
    request: {
      headers: { ...formHeaders(sign(encodeURI(withQuery), voiceParams)), "i-twilio-idempotency-token": "CA5b6a79880f1e2d3c4b5a69781f2e3d4c-completed" },
      query: { tenant: "acme", note: "a b/c" },
      body: new URLSearchParams(voiceParams).toString(),
      secrets: [TOKEN],
      options: { url: "https://hooks.example.com/twilio/voice" },
      now: NOW,
    },
    expected: { valid: true, eventType: "completed", providerEventId: "CA5b6a79880f1e2d3c4b5a69781f2e3d4c-completed", providerDeliveryId: null },
  },
  "json-body-sha256": {
    description: "JSON body: the signature covers the URL with ?bodySHA256=, which must be the hex SHA-256 of the body",
    request: {
      headers: { "content-type": "application/json", "x-twilio-signature": sign(`${URL_JSON}?bodySHA256=${jsonHash}`, null) },
      query: { bodySHA256: jsonHash },
      body: json,
      secrets: [TOKEN],
      options: { url: URL_JSON },
      now: NOW,
    },
    expected: { valid: true, eventType: "com.twilio.messaging.message.delivered", providerEventId: null, providerDeliveryId: null },
  },
  "json-body-tampered": {
    description: "JSON body changed: the signed URL still matches, the body hash does not",
    request: {
      headers: { "content-type": "application/json", "x-twilio-signature": sign(`${URL_JSON}?bodySHA256=${jsonHash}`, null) },
      query: { bodySHA256: jsonHash },
      body: json.replace("delivered", "failed"),
      secrets: [TOKEN],
      options: { url: URL_JSON },
      now: NOW,
    },
    expected: { valid: false, errorContains: "twilio body hash mismatch" },
  },
  "rotation-second-secret": {
    description: "signed with the second configured auth token (primary/secondary token rotation)",
    request: { ...post(), secrets: [OLD_TOKEN, TOKEN] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "a POST parameter changed after signing",
    request: post(sign(URL_SMS, smsParams), tamperedBody),
    expected: { valid: false, errorContains: "twilio signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another auth token",
    request: post(sign(URL_SMS, smsParams, OLD_TOKEN)),
    expected: { valid: false, errorContains: "twilio signature mismatch" },
  },
  "wrong-url": {
    description: "signed for another URL than the configured one",
    request: post(sign("https://hooks.example.com/twilio/other", smsParams)),
    expected: { valid: false, errorContains: "twilio signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Twilio-Signature header",
    request: { ...post(), headers: without(formHeaders(sign(URL_SMS, smsParams)), "x-twilio-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-twilio-signature" },
  },
  "no-idempotency-token": {
    description: "without I-Twilio-Idempotency-Token there is no identity (MessageSid repeats across status callbacks)",
    request: { ...post(), headers: without(formHeaders(sign(URL_SMS, smsParams)), "i-twilio-idempotency-token") },
    expected: { valid: true, eventType: "delivered", providerEventId: null, providerDeliveryId: null },
  },
};

assertOracle("twilio", "valid", twilio.validateRequest(TOKEN, sign(URL_SMS, smsParams), URL_SMS, smsParams));
assertOracle("twilio", "query-string", twilio.validateRequest(TOKEN, sign(encodeURI(withQuery), voiceParams), "https://hooks.example.com/twilio/voice?tenant=acme&note=a%20b/c", voiceParams));
assertOracle("twilio", "json-body-sha256", twilio.validateRequestWithBody(TOKEN, sign(`${URL_JSON}?bodySHA256=${jsonHash}`, null), `${URL_JSON}?bodySHA256=${jsonHash}`, json));
assertOracle("twilio", "json-body-tampered", !twilio.validateRequestWithBody(TOKEN, sign(`${URL_JSON}?bodySHA256=${jsonHash}`, null), `${URL_JSON}?bodySHA256=${jsonHash}`, json.replace("delivered", "failed")));
assertOracle("twilio", "tampered-body", !twilio.validateRequest(TOKEN, sign(URL_SMS, smsParams), URL_SMS, Object.fromEntries(new URLSearchParams(tamperedBody))));
assertOracle("twilio", "wrong-secret", !twilio.validateRequest(TOKEN, sign(URL_SMS, smsParams, OLD_TOKEN), URL_SMS, smsParams));

writeVectors("twilio", vectors);
