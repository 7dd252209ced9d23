import { KnockerError } from "../errors.js";
import { CuratedProvider, optionalString } from "./curated.js";
import { credentialMatches, jsonTypeAndId, missingHeader } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Token header: the header named by the `header` option (default `x-knocker-token`) must equal
 * one of the secrets (constant-time). The header is redacted from stored deliveries.
 * Event type / identity: body `type` / `id` when the body is JSON.
 */
export class TokenHeaderProvider extends CuratedProvider {
  readonly name = "token-header";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  constructor() {
    super({ header: optionalString("x-knocker-token") });
  }

  override validateOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const resolved = super.validateOptions(options);
    const header = resolved.header as string;
    if (!HEADER_NAME.test(header)) {
      throw new KnockerError("ERR_INVALID_PROVIDER_OPTION", `${this.name} provider option "header" must be an HTTP header name`);
    }
    return { ...resolved, header: header.toLowerCase() };
  }

  override secretHeaders(options: Readonly<Record<string, unknown>>): readonly string[] {
    return [options.header as string];
  }

  /** The token is a header: a missing or wrong token is refused before the body is read. */
  override precheck(request: ProviderRequest, { secrets, options }: VerifyContext): ProviderResult | undefined {
    const header = options.header as string;
    const token = request.header(header);
    if (token === undefined) return ProviderResult.reject(missingHeader(header));
    return credentialMatches(secrets, token) ? undefined : ProviderResult.reject("token-header token mismatch");
  }

  /** The body is parsed (for `type` / `id`) only once the token matched. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return this.precheck(request, context) ?? ProviderResult.accept(jsonTypeAndId(request));
  }
}
