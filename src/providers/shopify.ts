import { bodyHmacMacs, checkBodyHmacHeader, verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import type { BodyMac } from "./body-mac.js";
import { CuratedProvider } from "./curated.js";
import { refusalOf } from "./helpers.js";
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

  /** Refuses a missing or malformed HMAC header (the signature itself covers the body). */
  override precheck(request: ProviderRequest): ProviderResult | undefined {
    return refusalOf(checkBodyHmacHeader(request, shopifyScheme(request), shopifyMeta(request)));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    return bodyHmacMacs(request, secrets, shopifyScheme(request));
  }

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    return verifyBodyHmac(request, secrets, shopifyScheme(request), shopifyMeta(request));
  }
}

/** Everything Shopify's metadata comes from is a header, under either name. */
function shopifyMeta(request: ProviderRequest) {
  const header = (name: string) => request.header(`x-shopify-${name}`) ?? request.header(`shopify-${name}`);
  return { eventType: header("topic"), providerEventId: header("event-id"), providerDeliveryId: header("webhook-id") };
}

function shopifyScheme(request: ProviderRequest): BodyHmacScheme {
  const header = request.header("x-shopify-hmac-sha256") === undefined && request.header("shopify-hmac-sha256") !== undefined
    ? "shopify-hmac-sha256"
    : "x-shopify-hmac-sha256";
  return { provider: "shopify", header, algorithm: "sha256", encoding: "base64" };
}
