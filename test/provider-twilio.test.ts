import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import twilio from "twilio";
import { TwilioProvider } from "../src/providers/twilio.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

const TOKEN = "12345678901234567890123456789012";
const URL_SMS = "https://hooks.example.com/twilio/sms-status";
const status = (messageStatus: string) => ({
  AccountSid: "AC1f2e3d4c5b6a79880f1e2d3c4b5a6978",
  MessageSid: "SM9a8b7c6d5e4f30211a2b3c4d5e6f7a8b",
  MessageStatus: messageStatus,
  SmsStatus: messageStatus,
  From: "+15017122661",
  To: "+15558675310",
});
const formReceipt = (params: Record<string, string>, signature: string, extra: Record<string, string> = {}, query: Record<string, string> = {}) => ({
  body: new URLSearchParams(params).toString(),
  query,
  headers: { "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", ...extra },
});
/** Our own signature, made with node:crypto from Twilio's documented algorithm. */
const ours = (url: string, params: Record<string, string>, algorithm: "sha1" | "sha256" = "sha1") =>
  createHmac(algorithm, TOKEN).update(url + Object.keys(params).sort().map((key) => key + params[key]).join("")).digest("base64");
const options = { url: URL_SMS };

test("twilio: getExpectedTwilioSignature is accepted; ours passes validateRequest; a one-byte change fails both", async () => {
  const provider = new TwilioProvider();
  const params = status("delivered");
  const theirs = twilio.getExpectedTwilioSignature(TOKEN, URL_SMS, params);
  assert.equal((await verifyDirect(provider, formReceipt(params, theirs), [TOKEN], options)).valid, true);
  const signature = ours(URL_SMS, params);
  assert.equal((await verifyDirect(provider, formReceipt(params, signature), [TOKEN], options)).valid, true);
  assert.equal(twilio.validateRequest(TOKEN, signature, URL_SMS, params), true);
  const receipt = formReceipt(params, signature);
  const changed = { ...receipt, body: oneByteChanged(receipt.body) };
  assert.equal((await verifyDirect(provider, changed, [TOKEN], options)).signatureError, "twilio signature mismatch");
  assert.equal(twilio.validateRequest(TOKEN, signature, URL_SMS, Object.fromEntries(new URLSearchParams(changed.body.toString()))), false);
});

test("twilio: JSON bodies are covered by bodySHA256 (validateRequestWithBody agrees)", async () => {
  const provider = new TwilioProvider();
  const url = "https://hooks.example.com/twilio/events";
  const body = JSON.stringify({ EventType: "com.twilio.messaging.message.delivered", MessageSid: "SM9a8b" });
  const hash = createHash("sha256").update(body).digest("hex");
  const signedUrl = `${url}?bodySHA256=${hash}`;
  const signature = createHmac("sha1", TOKEN).update(signedUrl).digest("base64");
  const receipt = (payload: string | Buffer, query: Record<string, string> = { bodySHA256: hash }) =>
    ({ body: payload, query, headers: { "X-Twilio-Signature": signature, "Content-Type": "application/json" } });
  const ok = await verifyDirect(provider, receipt(body), [TOKEN], { url });
  assert.equal(ok.valid, true);
  assert.equal(ok.eventType, "com.twilio.messaging.message.delivered");
  assert.equal(twilio.validateRequestWithBody(TOKEN, signature, signedUrl, body), true);
  const theirs = twilio.getExpectedTwilioSignature(TOKEN, signedUrl, {});
  assert.equal((await verifyDirect(provider, { ...receipt(body), headers: { "X-Twilio-Signature": theirs, "Content-Type": "application/json" } }, [TOKEN], { url })).valid, true);
  const changed = oneByteChanged(body);
  assert.match((await verifyDirect(provider, receipt(changed), [TOKEN], { url })).signatureError ?? "", /^twilio body hash mismatch/);
  assert.equal(twilio.validateRequestWithBody(TOKEN, signature, signedUrl, changed.toString()), false);
  assert.match((await verifyDirect(provider, receipt(body, {}), [TOKEN], { url })).signatureError ?? "", /twilio (signature mismatch|body not covered)/);
  const unsignedBody = await verifyDirect(provider, { body, headers: { "X-Twilio-Signature": createHmac("sha1", TOKEN).update(url).digest("base64"), "Content-Type": "application/json" } }, [TOKEN], { url });
  assert.match(unsignedBody.signatureError ?? "", /^twilio body not covered by the signature/, "a URL signature alone never vouches for a body");
  assert.match((await verifyDirect(provider, receipt(body, { bodySHA256: "zz" }), [TOKEN], { url })).signatureError ?? "", /twilio/);
});

test("twilio: query strings, repeated params, ports, GET requests and HMAC_SHA256 settings", async () => {
  const provider = new TwilioProvider();
  const params = status("sent");
  // The query is appended to the option's base URL; the common encodings are all accepted.
  for (const signedUrl of [`${URL_SMS}?tenant=acme&note=a%20b/c`, `${URL_SMS}?tenant=acme&note=a+b%2Fc`, `${URL_SMS}?tenant=acme&note=a%20b%2Fc`]) {
    const result = await verifyDirect(provider, formReceipt(params, ours(signedUrl, params), {}, { tenant: "acme", note: "a b/c" }), [TOKEN], options);
    assert.equal(result.valid, true, signedUrl);
    assert.equal(twilio.validateRequest(TOKEN, ours(signedUrl, params), signedUrl, params), true, signedUrl);
  }
  assert.equal((await verifyDirect(provider, formReceipt(params, ours(`${URL_SMS}?tenant=other`, params), {}, { tenant: "acme" }), [TOKEN], options)).valid, false);
  // Default port: signed with :443, configured without (and the other way round).
  assert.equal((await verifyDirect(provider, formReceipt(params, ours("https://hooks.example.com:443/twilio/sms-status", params)), [TOKEN], options)).valid, true);
  assert.equal((await verifyDirect(provider, formReceipt(params, ours(URL_SMS, params)), [TOKEN], { url: "https://hooks.example.com:443/twilio/sms-status" })).valid, true);
  assert.equal((await verifyDirect(provider, formReceipt(params, ours("https://hooks.example.com:8443/twilio/sms-status", params)), [TOKEN], options)).valid, false);
  // Repeated params: Twilio's rule (unique values, sorted, each appended as name + value).
  const repeated = "To=%2B1555&MediaUrl=https%3A%2F%2Fb&MediaUrl=https%3A%2F%2Fa&MediaUrl=https%3A%2F%2Fa";
  const repeatedSignature = twilio.getExpectedTwilioSignature(TOKEN, URL_SMS, { To: "+1555", MediaUrl: ["https://b", "https://a", "https://a"] } as never);
  assert.equal((await verifyDirect(provider, { body: repeated, headers: { "x-twilio-signature": repeatedSignature, "content-type": "application/x-www-form-urlencoded" } }, [TOKEN], options)).valid, true);
  // GET webhooks carry the params in the query string (signed as part of the URL).
  const get = await verifyDirect(provider, { method: "GET", body: "", query: { CallSid: "CA1", CallStatus: "ringing" }, headers: { "x-twilio-signature": ours(`${URL_SMS}?CallSid=CA1&CallStatus=ringing`, {}) } }, [TOKEN], options);
  assert.equal(get.valid, true);
  assert.equal(get.eventType, "ringing");
  // Shared-key webhooks announce HMAC_SHA256 in X-Twilio-Webhooks-Signature-Settings.
  const sha256 = twilio.getExpectedTwilioSignature(TOKEN, URL_SMS, params, "HMAC_SHA256");
  const settings = { "X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256" };
  assert.equal((await verifyDirect(provider, formReceipt(params, sha256, settings), [TOKEN], options)).valid, true);
  assert.equal((await verifyDirect(provider, formReceipt(params, sha256), [TOKEN], options)).valid, false, "SHA-1 is the default");
  assert.equal((await verifyDirect(provider, formReceipt(params, sha256, { "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5" }), [TOKEN], options)).signatureError, "twilio signature algorithm unsupported");
  // Malformed and missing headers.
  assert.equal((await verifyDirect(provider, formReceipt(params, "not base64!"), [TOKEN], options)).signatureError, "twilio signature header malformed: expected base64");
  assert.equal((await verifyDirect(provider, { body: "", headers: {} }, [TOKEN], options)).signatureError, "missing signature header: x-twilio-signature");
  assert.equal((await verifyDirect(provider, formReceipt(params, ours(URL_SMS, params)), ["old-token", TOKEN], options)).valid, true, "rotation");
});

test("twilio: identity is I-Twilio-Idempotency-Token; status callbacks about one message stay separate events", async () => {
  const { receive } = inbox("twilio", [TOKEN], options);
  const sent = status("sent");
  const first = await receive(formReceipt(sent, ours(URL_SMS, sent), { "I-Twilio-Idempotency-Token": "tok-sent" }));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "sent");
  assert.equal(first.delivery.providerEventId, "tok-sent");
  assert.equal(first.delivery.dedupeKey, "tok-sent");
  const delivered = status("delivered");
  const second = await receive(formReceipt(delivered, ours(URL_SMS, delivered), { "I-Twilio-Idempotency-Token": "tok-delivered" }));
  assert.equal(second.result.duplicate, false, "same MessageSid, another status: another event");
  const retry = await receive(formReceipt(sent, ours(URL_SMS, sent), { "I-Twilio-Idempotency-Token": "tok-sent" }));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
  const bare = await receive(formReceipt(delivered, ours(URL_SMS, delivered)));
  assert.equal(bare.delivery.providerEventId, null);
  assert.equal(bare.delivery.dedupeKey, null);
  const bareAgain = await receive(formReceipt(delivered, ours(URL_SMS, delivered)));
  assert.equal(bareAgain.result.duplicate, true, "no token, the same signed bytes again: a replay, deduped by the body's SHA-256");
  assert.equal(bareAgain.result.eventId, bare.result.eventId);
  const voice = { CallSid: "CA1", CallStatus: "completed" };
  assert.equal((await receive(formReceipt(voice, ours(URL_SMS, voice)))).delivery.eventType, "completed");
});

test("twilio: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new TwilioProvider(), {
    headerNames: ["x-twilio-signature", "i-twilio-idempotency-token", "content-type", "x-twilio-webhooks-signature-settings"],
    secrets: [TOKEN],
    options,
    queryKeys: ["bodySHA256", "tenant"],
  });
});

test("twilio: option validation", async () => {
  await assertRegistrationRejected("twilio", {}, ["url"]);
  await assertRegistrationRejected("twilio", { url: "hooks.example.com/twilio" }, ["url"]);
  await assertRegistrationRejected("twilio", { url: "ftp://hooks.example.com/twilio" }, ["url"]);
  await assertRegistrationRejected("twilio", { url: 42 }, ["url"]);
  await assertRegistrationRejected("twilio", { url: URL_SMS, toleranceS: 5 }, ["toleranceS"]);
  await assertRegistrationRejected("twilio", { url: URL_SMS }, ["secret"], []);
});
