import assert from "node:assert/strict";
import { test } from "node:test";
import { PostmarkProvider } from "../src/providers/postmark.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, verifyDirect } from "./provider-kit.js";

// Postmark publishes no package that signs or verifies webhooks (it signs nothing): the
// credentials come from the webhook URL, so the tests build the header as an HTTP client does.
const CREDENTIALS = "postmark-hooks:Tq8vX2pLm4Rz";
const basic = (credentials: string) => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
const MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483";
const open = (receivedAt: string) => JSON.stringify({ RecordType: "Open", MessageStream: "outbound", FirstOpen: false, MessageID: MESSAGE_ID, Recipient: "john@example.com", ReceivedAt: receivedAt });
const click = JSON.stringify({ RecordType: "Click", MessageStream: "outbound", ClickLocation: "HTML", OriginalLink: "https://example.com", MessageID: MESSAGE_ID, Recipient: "john@example.com", ReceivedAt: "2023-11-14T22:14:00Z" });
const receipt = (body: string, authorization = basic(CREDENTIALS)) => ({ body, headers: { Authorization: authorization, "Content-Type": "application/json" } });

test("postmark: the URL's basic-auth credentials must equal a secret; the Authorization header is never stored", async () => {
  const provider = new PostmarkProvider();
  const url = new URL(`https://${CREDENTIALS}@hooks.example.com/webhooks/postmark`);
  assert.equal((await verifyDirect(provider, receipt(click, basic(`${url.username}:${url.password}`)), [CREDENTIALS])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(click), ["postmark-hooks:old", CREDENTIALS])).valid, true, "rotation");
  for (const wrong of ["postmark-hooks:Tq8vX2pLm4R", "other:Tq8vX2pLm4Rz", "postmark-hooks"]) {
    assert.equal((await verifyDirect(provider, receipt(click, basic(wrong)), [CREDENTIALS])).signatureError, "postmark credentials mismatch", wrong);
  }
  for (const malformed of ["Basic", "Basic !!!", `Bearer ${CREDENTIALS}`, CREDENTIALS]) {
    assert.match((await verifyDirect(provider, receipt(click, malformed), [CREDENTIALS])).signatureError ?? "", /^postmark authorization header malformed/, malformed);
  }
  assert.equal((await verifyDirect(provider, { body: click, headers: {} }, [CREDENTIALS])).signatureError, "missing signature header: authorization");

  const { receive } = inbox("postmark", [CREDENTIALS]);
  const { delivery } = await receive(receipt(click));
  assert.equal(delivery.signatureValid, true);
  assert.equal(delivery.headers.authorization, "[redacted]");
});

test("postmark: no identity — MessageID is shared by every event about one message, so each distinct body is its own event", async () => {
  const { receive, endpoint } = inbox("postmark", [CREDENTIALS]);
  const first = await receive(receipt(open("2023-11-14T22:13:17Z")));
  assert.equal(first.delivery.eventType, "Open");
  assert.equal(first.delivery.providerEventId, null);
  assert.equal(first.delivery.providerDeliveryId, null);
  assert.equal(first.delivery.dedupeKey, null);
  const second = await receive(receipt(click));
  assert.equal(second.delivery.eventType, "Click");
  assert.notEqual(second.result.eventId, first.result.eventId, "a click on the same message is another event");
  const reopened = await receive(receipt(open("2023-11-14T22:20:01Z")));
  assert.equal(reopened.result.duplicate, false, "a second open of the same message is another event");
  const again = await receive(receipt(open("2023-11-14T22:13:17Z")));
  assert.equal(again.result.duplicate, true, "no identity, the same signed bytes again: a replay, deduped by the body's SHA-256");
  // A caller with its own identity can still pass a dedupeKey.
  const body = open("2023-11-14T22:30:00Z");
  assert.equal((await endpoint.receive({ ...receipt(body), dedupeKey: "open-883953f4-22:30" })).duplicate, false);
  assert.equal((await endpoint.receive({ ...receipt(body), dedupeKey: "open-883953f4-22:30" })).duplicate, true);
});

test("postmark: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new PostmarkProvider(), { headerNames: ["authorization"], secrets: [CREDENTIALS] });
});

test("postmark: option validation", async () => {
  await assertRegistrationRejected("postmark", { username: "postmark-hooks" }, ["username"]);
  await assertRegistrationRejected("postmark", {}, ["secret"], []);
});
