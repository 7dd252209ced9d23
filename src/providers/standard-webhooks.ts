import { CuratedProvider, seconds } from "./curated.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";
import { checkStandardWebhooksSecrets, verifyStandardWebhook, type StandardWebhooksScheme } from "./standard-webhooks-scheme.js";

const SCHEME: StandardWebhooksScheme = { provider: "standard-webhooks", families: ["webhook", "svix"] };

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` (the `svix-*` names are accepted too) — `v1,<base64 HMAC-SHA256>` and
 * `v1a,<base64 Ed25519>` entries over `id.timestamp.body`; see standard-webhooks-scheme.ts.
 * Event type: body `type`. Identity (provider event id): `webhook-id`, the message id every
 * retry keeps.
 */
export class StandardWebhooksProvider extends CuratedProvider {
  readonly name = "standard-webhooks";

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
