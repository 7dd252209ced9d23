// Shopify vectors: signed with @shopify/shopify-api's own test helper getHmac() and checked with
// its webhooks.validate() (see shopify-oracle.ts).
// Run: npx tsx providers/generate/shopify.ts
import { shopifySign, shopifyValidates } from "./shopify-oracle.js";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "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";
const OLD_SECRET = "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";
const EVENT_ID = "98880550-7158-44d4-b7cd-2c97c8a091b5";
const WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";

const order = JSON.stringify({
  id: 820982911946154508,
  admin_graphql_api_id: "gid://shopify/Order/820982911946154508",
  email: "jon@example.com",
  created_at: "2023-11-14T17:13:10-05:00",
  currency: "USD",
  financial_status: "paid",
  name: "#9999",
  order_number: 1234,
  total_price: "403.00",
  line_items: [{ id: 866550311766439020, product_id: 632910392, title: "IPod Nano - 8GB", quantity: 1, price: "199.00", sku: "IPOD2008PINK" }],
  customer: { id: 115310627314723954, email: "john@example.com", first_name: "John", last_name: "Smith" },
});

const headers = (signature: string, family = "X-Shopify-") => ({
  "content-type": "application/json",
  "user-agent": "Shopify-Captain-Hook",
  [`${family}Topic`]: "orders/create",
  [`${family}Hmac-Sha256`]: signature,
  [`${family}Shop-Domain`]: "acme-outfitters.myshopify.com",
  [`${family}API-Version`]: "2024-10",
  [`${family}Webhook-Id`]: WEBHOOK_ID,
  [`${family}Event-Id`]: EVENT_ID,
  [`${family}Triggered-At`]: "2023-11-14T22:13:18.123456789Z",
});
const post = (signature = shopifySign(order, SECRET)) => ({ headers: headers(signature), body: order, secrets: [SECRET], now: NOW });
const meta = { eventType: "orders/create", providerEventId: EVENT_ID, providerDeliveryId: WEBHOOK_ID };
const tampered = order.replace("403.00", "4.00");

const vectors: Record<string, Vector> = {
  "valid": {
    description: "orders/create; identity is X-Shopify-Event-Id (not the order id), delivery id X-Shopify-Webhook-Id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "events-headers": {
    description: "an Events delivery with the unprefixed Shopify-* header names",
    request: { ...post(), headers: headers(shopifySign(order, SECRET), "Shopify-") },
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: tampered },
    expected: { valid: false, errorContains: "shopify signature mismatch" },
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(shopifySign(order, OLD_SECRET)),
    expected: { valid: false, errorContains: "shopify signature mismatch" },
  },
  "missing-signature-header": {
    description: "no X-Shopify-Hmac-Sha256 header",
    request: { ...post(), headers: without(headers(shopifySign(order, SECRET)), "X-Shopify-Hmac-Sha256") },
    expected: { valid: false, errorContains: "missing signature header: x-shopify-hmac-sha256" },
  },
  "malformed-signature": {
    description: "a GitHub-style sha256= prefix is not base64",
    request: post(`sha256=${shopifySign(order, SECRET)}`),
    expected: { valid: false, errorContains: "shopify signature header malformed" },
  },
};

assertOracle("shopify", "valid", await shopifyValidates(SECRET, order, headers(shopifySign(order, SECRET))));
assertOracle("shopify", "events-headers", await shopifyValidates(SECRET, order, headers(shopifySign(order, SECRET), "Shopify-")));
assertOracle("shopify", "tampered-body", !(await shopifyValidates(SECRET, tampered, headers(shopifySign(order, SECRET)))));
assertOracle("shopify", "wrong-secret", !(await shopifyValidates(SECRET, order, headers(shopifySign(order, OLD_SECRET)))));

writeVectors("shopify", vectors);
