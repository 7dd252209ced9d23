import { CuratedProvider } from "./curated.js";
import { basicCredentials, credentialMatches, field, missingHeader, scalarString } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Postmark signs nothing: the webhook URL carries HTTP Basic credentials
 * (`https://user:pass@…`), and the decoded `user:pass` of `Authorization: Basic …` must equal
 * one of the secrets (constant-time). Event type: body `RecordType` (`Delivery`, `Bounce`,
 * `Open`, `Click`, …). Identity: none — `MessageID` repeats across every event about one
 * message, and no event id is sent, so each receipt becomes its own event.
 */
export class PostmarkProvider extends CuratedProvider {
  readonly name = "postmark";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const meta = { eventType: scalarString(field(request.jsonOrUndefined(), "RecordType")) };
    if (request.header("authorization") === undefined) return ProviderResult.reject(missingHeader("authorization"), meta);
    const credentials = basicCredentials(request);
    if (credentials === null) return ProviderResult.reject("postmark authorization header malformed: expected Basic <base64 user:pass>", meta);
    return credentialMatches(secrets, credentials) ? ProviderResult.accept(meta) : ProviderResult.reject("postmark credentials mismatch", meta);
  }
}
