import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { shopifySign, shopifyValidates } from "../providers/generate/shopify-oracle.js";
import { ShopifyProvider } from "../src/providers/shopify.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, oneByteChanged, verifyDirect } from "./provider-kit.js";

const SECRET = "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";
const order = (status: string) =>
  JSON.stringify({ id: 820982911946154508, admin_graphql_api_id: "gid://shopify/Order/820982911946154508", financial_status: status, total_price: "403.00", currency: "USD" });
const headers = (signature: string, topic = "orders/create", eventId: string | null = "evt-1", webhookId = "wh-1") => ({
  "X-Shopify-Hmac-Sha256": signature,
  "X-Shopify-Topic": topic,
  "X-Shopify-Shop-Domain": "acme-outfitters.myshopify.com",
  "X-Shopify-API-Version": "2024-10",
  "X-Shopify-Webhook-Id": webhookId,
  ...(eventId === null ? {} : { "X-Shopify-Event-Id": eventId }),
  "Content-Type": "application/json",
});
const ours = (body: string | Buffer) => createHmac("sha256", SECRET).update(body).digest("base64");

test("shopify: shopify-api's getHmac is accepted; ours passes webhooks.validate(); a one-byte change fails both", async () => {
  const provider = new ShopifyProvider();
  const body = order("pending");
  assert.equal((await verifyDirect(provider, { body, headers: headers(shopifySign(body, SECRET)) }, [SECRET])).valid, true);
  const signature = ours(body);
  assert.equal((await verifyDirect(provider, { body, headers: headers(signature) }, [SECRET])).valid, true);
  assert.equal(await shopifyValidates(SECRET, body, headers(signature)), true);
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(provider, { body: changed, headers: headers(signature) }, [SECRET])).signatureError, "shopify signature mismatch");
  assert.equal(await shopifyValidates(SECRET, changed, headers(signature)), false);
});

test("shopify: the unprefixed Shopify-* names (Events deliveries) are read too", async () => {
  const body = order("paid");
  const events = { "shopify-hmac-sha256": ours(body), "shopify-topic": "orders/paid", "shopify-event-id": "evt-9", "shopify-webhook-id": "wh-9" };
  const result = await verifyDirect(new ShopifyProvider(), { body, headers: events }, [SECRET]);
  assert.equal(result.valid, true);
  assert.deepEqual([result.eventType, result.providerEventId, result.providerDeliveryId], ["orders/paid", "evt-9", "wh-9"]);
  assert.equal(await shopifyValidates(SECRET, body, { ...events, "shopify-shop-domain": "a.myshopify.com", "shopify-api-version": "2024-10" }), true);
  const bad = await verifyDirect(new ShopifyProvider(), { body, headers: { ...events, "shopify-hmac-sha256": ours("other") } }, [SECRET]);
  assert.equal(bad.signatureError, "shopify signature mismatch");
});

test("shopify: identity is X-Shopify-Event-Id, not the order id; a retry is a duplicate", async () => {
  const { receive } = inbox("shopify", [SECRET]);
  const created = order("pending");
  const first = await receive({ body: created, headers: headers(ours(created), "orders/create", "evt-1", "wh-1") });
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "orders/create");
  assert.equal(first.delivery.providerEventId, "evt-1");
  assert.equal(first.delivery.providerDeliveryId, "wh-1");
  assert.equal(first.delivery.dedupeKey, "evt-1");
  const paid = order("paid");
  const second = await receive({ body: paid, headers: headers(ours(paid), "orders/paid", "evt-2", "wh-2") });
  assert.equal(second.result.duplicate, false, "another event about the same order is a new event");
  const retry = await receive({ body: created, headers: headers(ours(created), "orders/create", "evt-1", "wh-1") });
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
  const noEventId = await receive({ body: paid, headers: headers(ours(paid), "orders/paid", null, "wh-3") });
  assert.equal(noEventId.delivery.dedupeKey, "wh-3", "without an event id, dedupe falls back to the webhook id");
});

test("shopify: rotation and malformed signatures", async () => {
  const provider = new ShopifyProvider();
  const body = order("pending");
  assert.equal((await verifyDirect(provider, { body, headers: headers(ours(body)) }, ["old", SECRET])).valid, true);
  for (const malformed of ["", `sha256=${ours(body)}`, "not base64!", ours(body).slice(0, -1)]) {
    assert.match((await verifyDirect(provider, { body, headers: headers(malformed) }, [SECRET])).signatureError ?? "", /shopify signature header malformed/, malformed);
  }
  const hex = createHmac("sha256", SECRET).update(body).digest("hex");
  assert.equal((await verifyDirect(provider, { body, headers: headers(hex) }, [SECRET])).signatureError, "shopify signature mismatch", "hex is not the encoding");
  const duplicated = await verifyDirect(provider, { body, headers: { ...headers(ours(body)), "X-Shopify-Hmac-Sha256": [ours(body), ours(body)] } }, [SECRET]);
  assert.equal(duplicated.valid, false, "a duplicated signature header is not one clean value");
  assert.equal((await verifyDirect(provider, { body, headers: { "content-type": "application/json" } }, [SECRET])).signatureError, "missing signature header: x-shopify-hmac-sha256");
});

test("shopify: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new ShopifyProvider(), {
    headerNames: ["x-shopify-hmac-sha256", "shopify-hmac-sha256", "x-shopify-topic", "x-shopify-event-id", "x-shopify-webhook-id"],
    secrets: [SECRET],
  });
});

test("shopify: option validation", async () => {
  await assertRegistrationRejected("shopify", { toleranceS: 300 }, ["toleranceS"]);
  await assertRegistrationRejected("shopify", {}, ["secret"], []);
});
