import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { IntercomProvider } from "../src/providers/intercom.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "8b1f3a6c-2d4e-4f70-9a81-b2c3d4e5f607";
const signed = (body: string | Buffer, secret = SECRET) => ({
  body,
  headers: { "X-Hub-Signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`, "Content-Type": "application/json" },
});
const notification = (id: string, topic: string, attempts = 1) =>
  JSON.stringify({
    type: "notification_event", app_id: "a1b2c3d4",
    data: { type: "notification_event_data", item: { type: "conversation", id: "147852369014", state: "open" } },
    links: {}, id, topic, delivery_status: "pending", delivery_attempts: attempts, delivered_at: 0,
    first_sent_at: 1699999996, created_at: 1699999995, self: null,
  });

// Intercom publishes no Node package that verifies webhooks (intercom-client has no helper);
// the test follows the documented scheme, HMAC-SHA1 hex of the body with the client secret.
test("intercom: the documented scheme verifies; a one-byte change, another secret or sha256 do not", async () => {
  const body = notification("notif_1", "conversation.user.created");
  assert.equal((await verifyDirect(new IntercomProvider(), signed(body), [SECRET])).valid, true);
  assert.equal((await verifyDirect(new IntercomProvider(), { ...signed(body), body: oneByteChanged(body) }, [SECRET])).valid, false);
  assert.equal((await verifyDirect(new IntercomProvider(), signed(body, "other"), [SECRET])).valid, false);
  assert.equal((await verifyDirect(new IntercomProvider(), signed(body, "other"), ["old", "other"])).valid, true, "rotation");
  const sha256 = { body, headers: { "x-hub-signature": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}` } };
  assert.match((await verifyDirect(new IntercomProvider(), sha256, [SECRET])).signatureError ?? "", /intercom signature header malformed/);
});

test("intercom: identity is the notification id, not the conversation id", async () => {
  const { receive } = inbox("intercom", [SECRET]);
  const created = await receive(signed(notification("notif_aaa", "conversation.user.created")));
  assert.equal(created.delivery.eventType, "conversation.user.created");
  assert.equal(created.delivery.providerEventId, "notif_aaa");
  const replied = await receive(signed(notification("notif_bbb", "conversation.user.replied")));
  assert.equal(replied.result.duplicate, false, "a second notification about the same conversation is a new event");
  const retry = await receive(signed(notification("notif_aaa", "conversation.user.created", 2)));
  assert.equal(retry.result.duplicate, true, "Intercom's retry (delivery_attempts 2) is a duplicate");
  assert.equal(retry.result.eventId, created.result.eventId);
});

test("intercom: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new IntercomProvider(), { headerNames: ["x-hub-signature", "x-hub-signature-256"], secrets: [SECRET] });
});

test("intercom: option validation", async () => {
  await assertRegistrationRejected("intercom", { toleranceS: 300 }, ["toleranceS"]);
  await assertRegistrationRejected("intercom", {}, ["secret"], [""]);
});
