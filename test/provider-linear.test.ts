import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { LinearWebhookClient } from "@linear/sdk/webhooks";
import { LinearProvider } from "../src/providers/linear.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "lin_wh_9f2c41d7a6b84e05b1c3d8e2f7a90b6c";
const sign = (body: string | Buffer, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");

function payload(action: string, issueId: string, webhookTimestamp = NOW * 1000): string {
  return JSON.stringify({
    action,
    createdAt: "2023-11-14T22:13:19.512Z",
    data: { id: issueId, identifier: "ENG-142", title: "Retry webhook deliveries", priority: 2 },
    url: "https://linear.app/acme/issue/ENG-142/retry-webhook-deliveries",
    type: "Issue",
    organizationId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    webhookTimestamp,
    webhookId: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
  });
}
const receipt = (body: string | Buffer, delivery: string) => ({
  body,
  headers: { "Linear-Signature": sign(body), "Linear-Delivery": delivery, "Linear-Event": "Issue", "Content-Type": "application/json" },
});

test("linear: a signature we accept is accepted by @linear/sdk, and a one-byte change is rejected by both", async () => {
  const nowMs = Date.now();
  const now = Math.floor(nowMs / 1000);
  const body = payload("create", "8c4d2a1f", nowMs);
  const signature = sign(body);
  const ours = await verifyDirect(new LinearProvider(), receipt(body, "d-1"), [SECRET], {}, now);
  assert.equal(ours.valid, true, ours.signatureError ?? "");
  assert.equal(new LinearWebhookClient(SECRET).verify(Buffer.from(body), signature), true);

  const changed = oneByteChanged(body);
  const oursChanged = await verifyDirect(new LinearProvider(), { ...receipt(body, "d-1"), body: changed }, [SECRET], {}, now);
  assert.equal(oursChanged.valid, false);
  assert.throws(() => new LinearWebhookClient(SECRET).verify(changed, signature));
});

test("linear: the SDK's webhook handler and we agree on a fresh delivery and on a stale one", async () => {
  const client = new LinearWebhookClient(SECRET);
  const handler = client.createHandler();
  for (const ageS of [0, 120]) {
    const nowMs = Date.now();
    const body = payload("update", "8c4d2a1f", nowMs - ageS * 1000);
    const request = new Request("https://example.test/linear", { method: "POST", body, headers: { "linear-signature": sign(body) } });
    const response = await handler(request);
    const ours = await verifyDirect(new LinearProvider(), receipt(body, "d-2"), [SECRET], {}, Math.floor(nowMs / 1000));
    assert.equal(response.status === 200, ours.valid, `age ${ageS}s: sdk ${response.status}, ours ${ours.signatureError}`);
  }
});

test("linear: event type is type.action, identity is Linear-Delivery (not data.id)", async () => {
  const { receive } = inbox("linear", [SECRET]);
  const created = await receive(receipt(payload("create", "issue-1"), "delivery-a"));
  assert.equal(created.delivery.eventType, "Issue.create");
  assert.equal(created.delivery.providerEventId, null);
  assert.equal(created.delivery.providerDeliveryId, "delivery-a");
  assert.equal(created.delivery.dedupeKey, "delivery-a");

  // A second, distinct event about the same issue stays its own event.
  const updated = await receive(receipt(payload("update", "issue-1"), "delivery-b"));
  assert.notEqual(updated.result.eventId, null);
  assert.notEqual(updated.result.eventId, created.result.eventId);
  assert.equal(updated.result.duplicate, false);

  // Linear retrying the first delivery (same Linear-Delivery) is a duplicate.
  const retry = await receive(receipt(payload("create", "issue-1"), "delivery-a"));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, created.result.eventId);
});

test("linear: webhookTimestamp outside toleranceS is rejected, within it accepted", async () => {
  const { receive } = inbox("linear", [SECRET], { toleranceS: 30 });
  const late = await receive(receipt(payload("create", "i", (NOW - 31) * 1000), "d-late"));
  assert.equal(late.result.statusCode, 401);
  assert.match(late.delivery.signatureError ?? "", /linear signature timestamp outside tolerance/);
  assert.equal(late.delivery.eventType, null, "a rejected receipt carries header metadata only");
  assert.equal(late.delivery.providerDeliveryId, "d-late");
  const fine = await receive(receipt(payload("create", "i", (NOW + 29) * 1000), "d-fine"));
  assert.equal(fine.delivery.signatureValid, true);
  const noTimestamp = JSON.stringify({ action: "create", type: "Issue", data: { id: "i" } });
  const missing = await receive(receipt(noTimestamp, "d-none"));
  assert.match(missing.delivery.signatureError ?? "", /linear signature timestamp missing/);
});

test("linear: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new LinearProvider(), {
    headerNames: ["linear-signature", "linear-delivery", "linear-event"],
    secrets: [SECRET],
  });
});

test("linear: option validation", async () => {
  await assertRegistrationRejected("linear", { toleranceS: "60" }, ["toleranceS"]);
  await assertRegistrationRejected("linear", { toleranceS: -1 }, ["toleranceS"]);
  await assertRegistrationRejected("linear", { tolerance: 60 }, ["tolerance"]);
  await assertRegistrationRejected("linear", {}, ["secret"], []);
});
