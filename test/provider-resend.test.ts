import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { Webhook } from "svix";
import { ResendProvider } from "../src/providers/resend.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "whsec_rD3m8kTq2vYw9xZ1aB4cE6fG8hJ0kL2n";
const event = (type: string, emailId = "56761188-7520-42d8-8898-ff6fc54ce618") =>
  JSON.stringify({ type, created_at: "2023-11-14T22:13:18.126Z", data: { email_id: emailId, from: "Acme <onboarding@acme.dev>", to: ["delivered@resend.dev"], subject: "Your invoice" } });
const receipt = (body: string | Buffer, signature: string, id = "msg_2bHQnXkGQq0YvB8RZp3cT4eS9wF", timestamp = NOW) => ({
  body,
  headers: { "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": signature, "content-type": "application/json" },
});
const ours = (body: string | Buffer, id = "msg_2bHQnXkGQq0YvB8RZp3cT4eS9wF", timestamp = NOW) =>
  `v1,${createHmac("sha256", Buffer.from(SECRET.slice(6), "base64")).update(`${id}.${timestamp}.`).update(body).digest("base64")}`;
/** Run svix's verify() with the wall clock pinned to NOW. */
function svixVerify(body: string | Buffer, headers: Record<string, string>): unknown {
  const real = Date.now;
  Date.now = () => NOW * 1000;
  try {
    return new Webhook(SECRET).verify(body, headers);
  } finally {
    Date.now = real;
  }
}

test("resend: svix signatures are accepted; ours pass svix's verify(); a one-byte change fails both", async () => {
  const body = event("email.sent");
  const theirs = new Webhook(SECRET).sign("msg_1", new Date(NOW * 1000), body);
  assert.equal((await verifyDirect(new ResendProvider(), receipt(body, theirs, "msg_1"), [SECRET])).valid, true);
  const signature = ours(body, "msg_1");
  assert.equal((await verifyDirect(new ResendProvider(), receipt(body, signature, "msg_1"), [SECRET])).valid, true);
  assert.deepEqual(svixVerify(body, receipt(body, signature, "msg_1").headers), JSON.parse(body));
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(new ResendProvider(), receipt(changed, signature, "msg_1"), [SECRET])).signatureError, "resend signature mismatch");
  assert.throws(() => svixVerify(changed, receipt(changed, signature, "msg_1").headers));
});

test("resend: identity is svix-id, not data.email_id — two events about one email stay two; a retry is a duplicate", async () => {
  const { receive } = inbox("resend", [SECRET]);
  const original = event("email.sent");
  const first = await receive(receipt(original, ours(original, "msg_a"), "msg_a"));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "email.sent");
  assert.equal(first.delivery.providerEventId, "msg_a");
  assert.equal(first.delivery.providerDeliveryId, null);
  assert.equal(first.delivery.dedupeKey, "msg_a");
  const other = event("email.delivered");
  const second = await receive(receipt(other, ours(other, "msg_b"), "msg_b"));
  assert.equal(second.result.duplicate, false, "another event about the same email is a new event");
  assert.notEqual(second.result.eventId, first.result.eventId);
  const retry = await receive(receipt(original, ours(original, "msg_a", NOW + 120), "msg_a", NOW + 120));
  assert.equal(retry.result.duplicate, true, "Svix retries keep svix-id");
  assert.equal(retry.result.eventId, first.result.eventId);
  const forged = await receive(receipt(other, "v1," + "A".repeat(43) + "=", "msg_c"));
  assert.equal(forged.delivery.signatureValid, false);
  assert.equal(forged.delivery.providerEventId, "msg_c", "metadata is kept on a rejected receipt");
  assert.equal(forged.delivery.eventType, "email.delivered");
});

test("resend: rotation, tolerance and malformed headers", async () => {
  const provider = new ResendProvider();
  const body = event("email.sent");
  const check = (signature: string, timestamp = NOW, secrets = [SECRET]) => verifyDirect(provider, receipt(body, signature, undefined, timestamp), secrets);
  assert.equal((await check(ours(body), NOW, ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", SECRET])).valid, true);
  assert.equal((await check(`${ours(body, "other")} ${ours(body)}`)).valid, true);
  assert.equal((await check(ours(body, undefined, NOW - 301), NOW - 301)).signatureError, "resend signature timestamp outside tolerance");
  assert.equal((await check(ours(body, undefined, NOW + 301), NOW + 301)).signatureError, "resend signature timestamp outside tolerance");
  for (const malformed of ["", "v1,", ours(body).slice(3), "v1,***"]) {
    assert.match((await check(malformed)).signatureError ?? "", /^resend signature header malformed/, malformed);
  }
  const webhookNames = { "webhook-id": "msg_1", "webhook-timestamp": String(NOW), "webhook-signature": ours(body, "msg_1") };
  assert.equal((await verifyDirect(provider, { body, headers: webhookNames }, [SECRET])).signatureError, "missing signature header: svix-signature");
});

test("resend: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new ResendProvider(), { headerNames: ["svix-id", "svix-timestamp", "svix-signature"], secrets: [SECRET] });
});

test("resend: option validation", () => {
  assertRegistrationRejected("resend", { toleranceS: "300" }, ["toleranceS"]);
  assertRegistrationRejected("resend", { signingSecret: SECRET }, ["signingSecret"]);
  assertRegistrationRejected("resend", {}, ["secret"], []);
  assertRegistrationRejected("resend", {}, ["secret #2", "malformed"], [SECRET, "whsec_!!not-base64!!"]);
});
