import { CuratedProvider } from "./curated.js";
import { credentialMatches, jsonTypeAndId, missingHeader } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Bearer token: `Authorization: Bearer <token>` where the token equals one of the secrets
 * (constant-time). Event type / identity: body `type` / `id` when the body is JSON.
 */
export class BearerTokenProvider extends CuratedProvider {
  readonly name = "bearer-token";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  /** The token is a header: a missing, malformed or wrong token is refused before the body is read. */
  override precheck(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult | undefined {
    const header = request.header("authorization");
    if (header === undefined) return ProviderResult.reject(missingHeader("authorization"));
    const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
    if (token === undefined) return ProviderResult.reject("bearer-token authorization header malformed: expected Bearer <token>");
    return credentialMatches(secrets, token) ? undefined : ProviderResult.reject("bearer-token token mismatch");
  }

  /** The body is parsed (for `type` / `id`) only once the token matched. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return this.precheck(request, context) ?? ProviderResult.accept(jsonTypeAndId(request));
  }
}
