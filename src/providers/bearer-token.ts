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

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const meta = jsonTypeAndId(request);
    const header = request.header("authorization");
    if (header === undefined) return ProviderResult.reject(missingHeader("authorization"), meta);
    const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1];
    if (token === undefined) return ProviderResult.reject("bearer-token authorization header malformed: expected Bearer <token>", meta);
    return credentialMatches(secrets, token) ? ProviderResult.accept(meta) : ProviderResult.reject("bearer-token token mismatch", meta);
  }
}
