import { bodyHmacMacs, checkBodyHmacHeader, verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import type { BodyMac } from "./body-mac.js";
import { CuratedProvider } from "./curated.js";
import { refusalOf } from "./helpers.js";
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

  /** Refuses a missing or malformed `X-Hub-Signature-256` (the signature itself covers the body). */
  override precheck(request: ProviderRequest): ProviderResult | undefined {
    return refusalOf(checkBodyHmacHeader(request, SIGNATURE, githubMeta(request)));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    return bodyHmacMacs(request, secrets, SIGNATURE);
  }

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    return verifyBodyHmac(request, secrets, SIGNATURE, githubMeta(request));
  }
}

/** Everything GitHub's metadata comes from is a header. */
function githubMeta(request: ProviderRequest) {
  return { eventType: request.header("x-github-event"), providerDeliveryId: request.header("x-github-delivery") };
}
