import { CuratedProvider } from "./curated.js";
import { basicCredentials, credentialMatches, jsonTypeAndId, missingHeader } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Basic auth: `Authorization: Basic <base64>` whose decoded `user:pass` equals one of the
 * secrets (constant-time). Event type / identity: body `type` / `id` when the body is JSON.
 */
export class BasicAuthProvider extends CuratedProvider {
  readonly name = "basic-auth";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const meta = jsonTypeAndId(request);
    if (request.header("authorization") === undefined) return ProviderResult.reject(missingHeader("authorization"), meta);
    const credentials = basicCredentials(request);
    if (credentials === null) return ProviderResult.reject("basic-auth authorization header malformed: expected Basic <base64 user:pass>", meta);
    return credentialMatches(secrets, credentials) ? ProviderResult.accept(meta) : ProviderResult.reject("basic-auth credentials mismatch", meta);
  }
}
