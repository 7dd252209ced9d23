import { CuratedProvider } from "./curated.js";
import { decodeHex, hmac, matchesAnySecret, missingHeader } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body, HMAC-SHA256.
 * Event type: `X-GitHub-Event`. Identity: `X-GitHub-Delivery`, which GitHub keeps when it
 * redelivers. `ping` is an ordinary event.
 */
export class GithubProvider extends CuratedProvider {
  readonly name = "github";

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const meta = { eventType: request.header("x-github-event"), providerDeliveryId: request.header("x-github-delivery") };

    const header = request.header("x-hub-signature-256");
    if (header === undefined) return ProviderResult.reject(missingHeader("x-hub-signature-256"), meta);
    const match = /^sha256=(.*)$/.exec(header.trim());
    const signature = match ? decodeHex(match[1]!) : null;
    if (signature === null) return ProviderResult.reject("github signature header malformed: expected sha256=<hex>", meta);

    const valid = matchesAnySecret(secrets, [signature], (secret) => hmac("sha256", secret, request.body));
    return valid ? ProviderResult.accept(meta) : ProviderResult.reject("github signature mismatch", meta);
  }
}
