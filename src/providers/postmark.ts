import { CuratedProvider } from "./curated.js";
import { checkBasicAuth, field, scalarString } from "./helpers.js";
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

  /** The credentials are a header: missing, malformed or wrong ones are refused before the body is read. */
  override precheck(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult | undefined {
    return checkBasicAuth("postmark", request, secrets);
  }

  /** The body is parsed (for `RecordType`) only once the credentials matched. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return this.precheck(request, context) ?? ProviderResult.accept({ eventType: scalarString(field(request.jsonOrUndefined(), "RecordType")) });
  }
}
