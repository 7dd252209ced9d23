import { verifyBodyHmac } from "./body-hmac-scheme.js";
import { CuratedProvider } from "./curated.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";

/**
 * Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body under the app's
 * client secret. Webhooks send the `X-Shopify-*` names, Events deliveries the unprefixed
 * `Shopify-*` ones; each header is read under either name (prefixed first).
 * Event type: the topic header (`orders/create`). Identity: `X-Shopify-Event-Id` (the same for
 * every delivery of one event); delivery id: `X-Shopify-Webhook-Id`.
 */
export class ShopifyProvider extends CuratedProvider {
  readonly name = "shopify";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const header = (name: string) => request.header(`x-shopify-${name}`) ?? request.header(`shopify-${name}`);
    const meta = { eventType: header("topic"), providerEventId: header("event-id"), providerDeliveryId: header("webhook-id") };
    const signature = request.header("x-shopify-hmac-sha256") === undefined && request.header("shopify-hmac-sha256") !== undefined
      ? "shopify-hmac-sha256"
      : "x-shopify-hmac-sha256";
    return verifyBodyHmac(request, secrets, { provider: "shopify", header: signature, algorithm: "sha256", encoding: "base64" }, meta);
  }
}
