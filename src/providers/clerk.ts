import { CuratedProvider, seconds } from "./curated.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";
import { checkStandardWebhooksSecrets, verifyStandardWebhook, type StandardWebhooksScheme } from "./standard-webhooks-scheme.js";

const SCHEME: StandardWebhooksScheme = { provider: "clerk", families: ["svix"] };

/**
 * Clerk: Svix-signed (Standard Webhooks v1) — `svix-id`, `svix-timestamp`, `svix-signature` with
 * `v1,<base64 HMAC-SHA256>` entries over `id.timestamp.body`; the `whsec_…` signing secret is
 * base64-decoded (see standard-webhooks-scheme.ts). Event type: body `type` (`user.created`, …).
 * Identity (provider event id): `svix-id`, kept on every retry — never `data.id`, the id of the
 * user/organization/session the event is about.
 */
export class ClerkProvider extends CuratedProvider {
  readonly name = "clerk";

  constructor() {
    super({ toleranceS: seconds(300) });
  }

  override validateSecrets(secrets: readonly string[]): void {
    checkStandardWebhooksSecrets(this.name, secrets);
  }

  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return verifyStandardWebhook(request, context, SCHEME);
  }
}
