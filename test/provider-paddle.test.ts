import assert from "node:assert/strict";
import { test } from "node:test";
import { paddleAccepts, paddleSignature, wallClock } from "../providers/generate/paddle-oracle.js";
import { PaddleProvider } from "../src/providers/paddle.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "pdl_ntfset_01hfa3k9q8zj5n2w7xr4t6yb1c_8Xz2mQ4vR7tY1uW3eP6sK9dF";
const event = (eventId: string, type: string, notificationId = `ntf_${eventId.slice(4)}`) =>
  JSON.stringify({ event_id: eventId, event_type: type, occurred_at: "2023-11-14T22:13:17.592013Z", notification_id: notificationId, data: { id: "sub_01hfa3kbzkf6n7a9tj2f4h0x6e", status: "active" } });
const receipt = (body: string | Buffer, signature: string) => ({ body, headers: { "Paddle-Signature": signature, "Content-Type": "application/json" } });

test("paddle: what we accept passes the SDK's isSignatureValid; a one-byte change fails both", async () => {
  // The SDK has no signer and reads the real clock, so this test signs at the current time and pins ours to it.
  const now = wallClock();
  const provider = new PaddleProvider();
  const body = event("evt_01", "subscription.created");
  const signature = paddleSignature(body, SECRET, now);
  assert.equal((await verifyDirect(provider, receipt(body, signature), [SECRET], {}, now)).valid, true);
  assert.equal(await paddleAccepts(body, SECRET, signature), true);
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(provider, receipt(changed, signature), [SECRET], {}, now)).signatureError, "paddle signature mismatch");
  assert.equal(await paddleAccepts(changed, SECRET, signature), false);
  const stale = paddleSignature(body, SECRET, now - 6);
  assert.equal((await verifyDirect(provider, receipt(body, stale), [SECRET], {}, now)).signatureError, "paddle signature timestamp outside tolerance");
  assert.equal(await paddleAccepts(body, SECRET, stale), false);
});

test("paddle: identity is event_id (delivery id notification_id), not data.id; a retry is a duplicate", async () => {
  const { receive } = inbox("paddle", [SECRET]);
  const created = event("evt_01", "subscription.created", "ntf_01");
  const first = await receive(receipt(created, paddleSignature(created, SECRET, NOW)));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "subscription.created");
  assert.equal(first.delivery.providerEventId, "evt_01");
  assert.equal(first.delivery.providerDeliveryId, "ntf_01");
  assert.equal(first.delivery.dedupeKey, "evt_01");
  const activated = event("evt_02", "subscription.activated", "ntf_02");
  const second = await receive(receipt(activated, paddleSignature(activated, SECRET, NOW)));
  assert.equal(second.result.duplicate, false, "another event about the same subscription is a new event");
  // A replay (retry or "replay notification") signs again with a fresh ts; the event id is kept.
  const retry = await receive(receipt(created, paddleSignature(created, SECRET, NOW - 3)));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
});

test("paddle: tolerance is symmetric; any h1 may match; malformed headers are rejected", async () => {
  const provider = new PaddleProvider();
  const body = event("evt_03", "transaction.paid");
  const check = (signature: string, options = {}, secrets = [SECRET]) => verifyDirect(provider, receipt(body, signature), secrets, options);
  assert.equal((await check(paddleSignature(body, SECRET, NOW - 5))).valid, true);
  assert.equal((await check(paddleSignature(body, SECRET, NOW - 6))).signatureError, "paddle signature timestamp outside tolerance");
  assert.equal((await check(paddleSignature(body, SECRET, NOW + 6))).signatureError, "paddle signature timestamp outside tolerance");
  assert.equal((await check(paddleSignature(body, SECRET, NOW - 60), { toleranceS: 120 })).valid, true);
  assert.equal((await check(paddleSignature(body, SECRET, NOW, ["00".repeat(32), "zz"]))).valid, true);
  assert.equal((await check(paddleSignature(body, SECRET, NOW), {}, ["pdl_ntfset_old", SECRET])).valid, true);
  const good = paddleSignature(body, SECRET, NOW).split(";")[1]!;
  for (const malformed of ["", `ts=${NOW}`, good, `ts=${NOW},${good}`, `t=${NOW};${good}`]) {
    assert.match((await check(malformed)).signatureError ?? "", /^paddle signature header malformed/, malformed);
  }
  for (const ts of ["abc", "-1", "1.7e9"]) assert.equal((await check(`ts=${ts};${good}`)).signatureError, "paddle signature timestamp is not a number", ts);
});

test("paddle: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new PaddleProvider(), { headerNames: ["paddle-signature"], secrets: [SECRET] });
});

test("paddle: option validation", async () => {
  await assertRegistrationRejected("paddle", { toleranceS: "5" }, ["toleranceS"]);
  await assertRegistrationRejected("paddle", { toleranceS: -1 }, ["toleranceS"]);
  await assertRegistrationRejected("paddle", { maxVariance: 5 }, ["maxVariance"]);
  await assertRegistrationRejected("paddle", {}, ["secret"], []);
});
