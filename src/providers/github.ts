import { verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import { CuratedProvider } from "./curated.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";

const SIGNATURE: BodyHmacScheme = { provider: "github", header: "x-hub-signature-256", algorithm: "sha256", encoding: "hex", prefix: "sha256=" };

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body, HMAC-SHA256.
 * Event type: `X-GitHub-Event`. Identity: `X-GitHub-Delivery`, which GitHub keeps when it
 * redelivers. `ping` is an ordinary event.
 */
export class GithubProvider extends CuratedProvider {
  readonly name = "github";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const meta = { eventType: request.header("x-github-event"), providerDeliveryId: request.header("x-github-delivery") };
    return verifyBodyHmac(request, secrets, SIGNATURE, meta);
  }
}
