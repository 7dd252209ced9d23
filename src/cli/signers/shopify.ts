import { given, hmac, isoSeconds, uuid, type Signer } from "./signer.js";

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>` under the app's client
 * secret; `X-Shopify-Webhook-Id` and `X-Shopify-Event-Id` UUIDs. The topic is
 * `X-Shopify-Topic`: set it with --header X-Shopify-Topic=orders/create.
 */
export const shopify: Signer = {
  provider: "shopify",
  secret: "the app's client secret",
  sign(input) {
    return {
      headers: [
        ["X-Shopify-Hmac-Sha256", hmac("sha256", input.secret, input.body).toString("base64")],
        ["X-Shopify-Webhook-Id", given(input, "x-shopify-webhook-id", uuid)],
        ["X-Shopify-Event-Id", given(input, "x-shopify-event-id", uuid)],
        ["X-Shopify-Triggered-At", given(input, "x-shopify-triggered-at", () => isoSeconds(input.timestamp))],
      ],
      warnings: input.header("x-shopify-topic") === undefined ? ["shopify sends the topic in X-Shopify-Topic: add --header X-Shopify-Topic=<topic>"] : [],
    };
  },
};
