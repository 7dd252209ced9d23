import { bodyHmacMacs, checkBodyHmacHeader, verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import type { BodyMac } from "./body-mac.js";
import { CuratedProvider } from "./curated.js";
import { field, refusalOf, scalarString } from "./helpers.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";

const SIGNATURE: BodyHmacScheme = { provider: "intercom", header: "x-hub-signature", algorithm: "sha1", encoding: "hex", prefix: "sha1=" };

/**
 * Intercom: `X-Hub-Signature: sha1=<hex>` over the raw body, HMAC-SHA1 keyed with the app's
 * client secret. Event type: body `topic`. Identity: body `id` (`notif_…`, the notification).
 */
export class IntercomProvider extends CuratedProvider {
  readonly name = "intercom";

  /** Refuses a missing or malformed `X-Hub-Signature` (the signature itself covers the body). */
  override precheck(request: ProviderRequest): ProviderResult | undefined {
    return refusalOf(checkBodyHmacHeader(request, SIGNATURE, {}));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    return bodyHmacMacs(request, secrets, SIGNATURE);
  }

  /** The body is parsed only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    return verifyBodyHmac(request, secrets, SIGNATURE, {}, () => {
      const body = request.jsonOrUndefined();
      return { eventType: scalarString(field(body, "topic")), providerEventId: scalarString(field(body, "id")) };
    });
  }
}
