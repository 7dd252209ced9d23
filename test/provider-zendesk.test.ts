import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { ZendeskProvider } from "../src/providers/zendesk.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "dGhpcy1pcy1hLXplbmRlc2stc2lnbmluZy1zZWNyZXQ";
const iso = (unix: number) => new Date(unix * 1000).toISOString();
const signed = (body: string | Buffer, invocation: string, timestamp = iso(NOW)) => ({
  body,
  headers: {
    "X-Zendesk-Webhook-Signature": createHmac("sha256", SECRET).update(timestamp).update(body).digest("base64"),
    "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    "X-Zendesk-Webhook-Invocation-Id": invocation,
    "X-Zendesk-Webhook-Id": "01GK8E6BKWMJZD2T8Y5AXJQMG5",
    "Content-Type": "application/json",
  },
});
const ticketEvent = (eventId: string, eventType: string, ticketId = "35436") =>
  JSON.stringify({
    type: `zen:event-type:${eventType}`,
    account_id: 12514403,
    id: eventId,
    time: "2023-11-14T22:13:18Z",
    zendesk_event_version: "2022-11-06",
    subject: `zen:ticket:${ticketId}`,
    detail: { id: ticketId, status: "OPEN", via: { channel: "web" } },
    event: { current: "OPEN", previous: "NEW" },
  });

// Zendesk publishes no Node package that signs or verifies webhooks; the vectors and this test
// follow the documented recipe base64(HMACSHA256(TIMESTAMP + BODY)).
test("zendesk: the documented recipe verifies; a one-byte change of body or timestamp does not", async () => {
  const body = ticketEvent("01HFA3", "ticket.status_changed");
  const receipt = signed(body, "inv-1");
  assert.equal((await verifyDirect(new ZendeskProvider(), receipt, [SECRET])).valid, true);
  assert.equal((await verifyDirect(new ZendeskProvider(), { ...receipt, body: oneByteChanged(body) }, [SECRET])).valid, false);
  const otherTs = { ...receipt, headers: { ...receipt.headers, "X-Zendesk-Webhook-Signature-Timestamp": iso(NOW + 1) } };
  assert.match((await verifyDirect(new ZendeskProvider(), otherTs, [SECRET])).signatureError ?? "", /zendesk signature mismatch/);
});

test("zendesk: two events about the same ticket stay two events; a retry of one is a duplicate", async () => {
  const { receive } = inbox("zendesk", [SECRET]);
  const created = await receive(signed(ticketEvent("01HF-created", "ticket.created"), "inv-a"));
  assert.equal(created.delivery.eventType, "zen:event-type:ticket.created");
  assert.equal(created.delivery.providerEventId, "01HF-created", "body id, not detail.id");
  assert.equal(created.delivery.providerDeliveryId, "inv-a");
  assert.equal(created.delivery.dedupeKey, "01HF-created");

  const changed = await receive(signed(ticketEvent("01HF-status", "ticket.status_changed"), "inv-b"));
  assert.equal(changed.result.duplicate, false);
  assert.notEqual(changed.result.eventId, created.result.eventId);

  const retry = await receive(signed(ticketEvent("01HF-created", "ticket.created"), "inv-a", iso(NOW + 60)));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, created.result.eventId);
});

test("zendesk: trigger payloads never use their ticket id; the invocation id decides", async () => {
  const { receive } = inbox("zendesk", [SECRET]);
  const trigger = (status: string) => JSON.stringify({ ticket_id: "35436", id: "35436", status, subject: "Printer on fire" });
  const opened = await receive(signed(trigger("open"), "inv-1"));
  assert.equal(opened.delivery.providerEventId, null);
  assert.equal(opened.delivery.dedupeKey, "inv-1");
  const solved = await receive(signed(trigger("solved"), "inv-2"));
  assert.equal(solved.result.duplicate, false, "a second trigger about the same ticket is a new event");
  const retried = await receive(signed(trigger("open"), "inv-1"));
  assert.equal(retried.result.duplicate, true, "a retry attempt of the same invocation is a duplicate");
});

test("zendesk: ISO-8601 timestamp outside toleranceS is rejected; non-ISO timestamps are malformed", async () => {
  const body = ticketEvent("e", "ticket.created");
  const provider = new ZendeskProvider();
  assert.equal((await verifyDirect(provider, signed(body, "i", iso(NOW - 300)), [SECRET])).valid, true);
  assert.match((await verifyDirect(provider, signed(body, "i", iso(NOW - 301)), [SECRET])).signatureError ?? "", /outside tolerance/);
  assert.match((await verifyDirect(provider, signed(body, "i", iso(NOW + 301)), [SECRET])).signatureError ?? "", /outside tolerance/);
  assert.equal((await verifyDirect(provider, signed(body, "i", iso(NOW - 500)), [SECRET], { toleranceS: 600 })).valid, true);
  for (const bad of [String(NOW), "2023-11-14", "Tue, 14 Nov 2023 22:13:20 GMT", "2023-13-45T99:99:99Z"]) {
    const result = await verifyDirect(provider, signed(body, "i", bad), [SECRET]);
    assert.match(result.signatureError ?? "", /zendesk signature timestamp malformed/, bad);
  }
});

test("zendesk: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new ZendeskProvider(), {
    headerNames: ["x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp", "x-zendesk-webhook-invocation-id"],
    secrets: [SECRET],
  });
});

test("zendesk: option validation", async () => {
  await assertRegistrationRejected("zendesk", { toleranceS: 1.5 }, ["toleranceS"]);
  await assertRegistrationRejected("zendesk", { toleranceS: null }, ["toleranceS"]);
  await assertRegistrationRejected("zendesk", { signingSecret: "x" }, ["signingSecret"]);
});
