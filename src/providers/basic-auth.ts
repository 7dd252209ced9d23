import { CuratedProvider } from "./curated.js";
import { checkBasicAuth, jsonTypeAndId } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Basic auth: `Authorization: Basic <base64>` whose decoded `user:pass` equals one of the
 * secrets (constant-time). Event type / identity: body `type` / `id` when the body is JSON.
 */
export class BasicAuthProvider extends CuratedProvider {
  readonly name = "basic-auth";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  /** The credentials are a header: missing, malformed or wrong ones are refused before the body is read. */
  override precheck(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult | undefined {
    return checkBasicAuth("basic-auth", request, secrets);
  }

  /** The body is parsed (for `type` / `id`) only once the credentials matched. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return this.precheck(request, context) ?? ProviderResult.accept(jsonTypeAndId(request));
  }
}
