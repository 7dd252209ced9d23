import { verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import { CuratedProvider } from "./curated.js";
import { field, scalarString } from "./helpers.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";

const SIGNATURE: BodyHmacScheme = { provider: "intercom", header: "x-hub-signature", algorithm: "sha1", encoding: "hex", prefix: "sha1=" };

/**
 * Intercom: `X-Hub-Signature: sha1=<hex>` over the raw body, HMAC-SHA1 keyed with the app's
 * client secret. Event type: body `topic`. Identity: body `id` (`notif_…`, the notification).
 */
export class IntercomProvider extends CuratedProvider {
  readonly name = "intercom";

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const body = request.jsonOrUndefined();
    const meta = { eventType: scalarString(field(body, "topic")), providerEventId: scalarString(field(body, "id")) };
    return verifyBodyHmac(request, secrets, SIGNATURE, meta);
  }
}
