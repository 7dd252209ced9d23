import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { isValidSlackRequest, verifySlackRequest } from "@slack/bolt";
import { SlackProvider } from "../src/providers/slack.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const FORM = "application/x-www-form-urlencoded";
const callback = (eventId: string, type: string, ts = "1699999997.000200") =>
  JSON.stringify({ team_id: "T0001", api_app_id: "A0KRD7HC3", event: { type, user: "U061F7AUR", channel: "C0LAN2Q65", ts, item: { channel: "C0LAN2Q65", ts } }, type: "event_callback", event_id: eventId, event_time: NOW - 3 });
const sign = (body: string | Buffer, timestamp = NOW) => `v0=${createHmac("sha256", SECRET).update(`v0:${timestamp}:`).update(body).digest("hex")}`;
const receipt = (body: string | Buffer, signature = sign(body), timestamp = NOW, contentType = "application/json", extra: Record<string, string> = {}) => ({
  body,
  headers: { "X-Slack-Signature": signature, "X-Slack-Request-Timestamp": String(timestamp), "Content-Type": contentType, ...extra },
});
const bolt = (body: string | Buffer, signature: string, timestamp = NOW) =>
  isValidSlackRequest({ signingSecret: SECRET, body: body.toString(), headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp }, nowMilliseconds: NOW * 1000 });

test("slack: what we accept passes bolt's verifySlackRequest; a one-byte change fails both", async () => {
  const provider = new SlackProvider();
  const body = callback("Ev01", "app_mention");
  const signature = sign(body);
  assert.equal((await verifyDirect(provider, receipt(body), [SECRET])).valid, true);
  assert.doesNotThrow(() => verifySlackRequest({ signingSecret: SECRET, body, headers: { "x-slack-signature": signature, "x-slack-request-timestamp": NOW }, nowMilliseconds: NOW * 1000 }));
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(provider, receipt(changed, signature), [SECRET])).signatureError, "slack signature mismatch");
  assert.equal(bolt(changed, signature), false);
  // And for a form post, byte for byte.
  const form = `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", trigger_id: "1.2.3", actions: [{ action_id: "approve" }] }))}`;
  assert.equal((await verifyDirect(provider, receipt(form, sign(form), NOW, FORM), [SECRET])).valid, true);
  assert.equal(bolt(form, sign(form)), true);
  assert.equal(bolt(oneByteChanged(form), sign(form)), false);
  assert.equal((await verifyDirect(provider, receipt(oneByteChanged(form), sign(form), NOW, FORM), [SECRET])).valid, false);
  // Bolt has no signer; every signature in these tests is made with node:crypto.
});

test("slack: identity is event_id; a retry is a duplicate; two events about one message stay two", async () => {
  const { receive } = inbox("slack", [SECRET]);
  const added = callback("Ev01", "reaction_added");
  const first = await receive(receipt(added));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "reaction_added");
  assert.equal(first.delivery.providerEventId, "Ev01");
  assert.equal(first.delivery.dedupeKey, "Ev01");
  const removed = callback("Ev02", "reaction_removed");
  const second = await receive(receipt(removed));
  assert.equal(second.result.duplicate, false, "another event about the same message is a new event");
  const retry = await receive(receipt(added, sign(added, NOW + 60), NOW + 60, "application/json", { "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout" }));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);

  const form = `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", trigger_id: "1.2.3", actions: [{ action_id: "approve" }] }))}`;
  const click = await receive(receipt(form, sign(form), NOW, FORM));
  assert.equal(click.delivery.eventType, "block_actions");
  assert.equal(click.delivery.providerEventId, null);
  const clickAgain = await receive(receipt(form, sign(form), NOW, FORM));
  assert.equal(clickAgain.result.duplicate, false, "no identity: each receipt is its own event");
});

test("slack: url_verification is answered with the challenge after the signature checks", async () => {
  const { receive } = inbox("slack", [SECRET]);
  const body = JSON.stringify({ token: "Jhj5dZrVaK7ZwHHjRyZWjbDl", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
  const answered = await receive(receipt(body));
  assert.equal(answered.result.statusCode, 200);
  assert.deepEqual(answered.result.reply, { contentType: "text/plain", body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
  assert.equal(answered.result.eventId, null);
  assert.equal(answered.delivery.signatureValid, true);
  const unsigned = await receive(receipt(body, sign("other")));
  assert.equal(unsigned.result.statusCode, 401);
  assert.equal(unsigned.result.reply, undefined);
  const stale = await receive(receipt(body, sign(body, NOW - 400), NOW - 400));
  assert.equal(stale.result.statusCode, 401, "the tolerance applies to the handshake too");
});

test("slack: tolerance is symmetric; rotation; malformed headers", async () => {
  const provider = new SlackProvider();
  const body = callback("Ev03", "message");
  const check = (signature: string, timestamp = NOW, options = {}, secrets = [SECRET]) => verifyDirect(provider, receipt(body, signature, timestamp), secrets, options);
  assert.equal((await check(sign(body, NOW - 300), NOW - 300)).valid, true);
  assert.equal((await check(sign(body, NOW - 301), NOW - 301)).signatureError, "slack signature timestamp outside tolerance");
  assert.equal((await check(sign(body, NOW + 301), NOW + 301)).signatureError, "slack signature timestamp outside tolerance");
  assert.equal((await check(sign(body, NOW - 301), NOW - 301, { toleranceS: 600 })).valid, true);
  assert.equal((await check(sign(body), NOW, {}, ["old-secret", SECRET])).valid, true);
  for (const malformed of ["", "v0=", "v0=xyz", sign(body).slice(3), `v1=${sign(body).slice(3)}`, `${sign(body)}, ${sign(body)}`]) {
    assert.match((await check(malformed)).signatureError ?? "", /^slack signature header malformed/, malformed);
  }
  for (const timestamp of ["abc", "-1", "1.7e9"]) {
    const result = await verifyDirect(provider, { body, headers: { ...receipt(body).headers, "X-Slack-Request-Timestamp": timestamp } }, [SECRET]);
    assert.equal(result.signatureError, "slack signature timestamp is not a number", timestamp);
  }
});

test("slack: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new SlackProvider(), { headerNames: ["x-slack-signature", "x-slack-request-timestamp", "content-type"], secrets: [SECRET] });
});

test("slack: option validation", async () => {
  await assertRegistrationRejected("slack", { toleranceS: "300" }, ["toleranceS"]);
  await assertRegistrationRejected("slack", { signingSecret: SECRET }, ["signingSecret"]);
  await assertRegistrationRejected("slack", {}, ["secret"], []);
});
